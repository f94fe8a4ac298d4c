/** One row of an attack suite's report: what was tried and what happened. */
export interface AttackRow {
  attack: string
  outcome: string
}

/** Collects attack outcomes and prints them as a markdown table (call `print` in afterAll). */
export function attackTable(title: string) {
  const rows: AttackRow[] = []
  const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ').slice(0, 400)
  return {
    /** Records an attack and its observed outcome (only after the test asserted it failed). */
    add(attack: string, outcome: string): void {
      rows.push({ attack, outcome })
    },
    print(): void {
      const lines = [`\n### ${title}\n`, '| attack | outcome |', '|---|---|', ...rows.map((r) => `| ${cell(r.attack)} | ${cell(r.outcome)} |`)]
      console.log(lines.join('\n'))
    },
  }
}
