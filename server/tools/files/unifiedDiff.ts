type Op = { op: ' ' | '-' | '+'; text: string }

const CONTEXT = 3
const MAX_CELLS = 4_000_000

/** Line diff: common prefix/suffix, then an LCS table for the middle (a plain replace when too big). */
function diffLines(a: string[], b: string[]): Op[] {
  let pre = 0
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++
  let suf = 0
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++
  const am = a.slice(pre, a.length - suf)
  const bm = b.slice(pre, b.length - suf)
  const mid: Op[] = []
  if ((am.length + 1) * (bm.length + 1) > MAX_CELLS) {
    for (const text of am) mid.push({ op: '-', text })
    for (const text of bm) mid.push({ op: '+', text })
  } else {
    const n = am.length
    const m = bm.length
    const w = m + 1
    const lcs = new Uint32Array((n + 1) * w) // lcs[i*w+j]: LCS length of am[i..] and bm[j..]
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] = am[i] === bm[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!)
      }
    }
    let i = 0
    let j = 0
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        mid.push({ op: ' ', text: am[i++]! })
        j++
      } else if (i < n && (j >= m || lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) mid.push({ op: '-', text: am[i++]! })
      else mid.push({ op: '+', text: bm[j++]! })
    }
  }
  return [...a.slice(0, pre).map((text): Op => ({ op: ' ', text })), ...mid, ...a.slice(a.length - suf).map((text): Op => ({ op: ' ', text }))]
}

/**
 * A unified diff (3 lines of context) between two texts, in the form the MCP filesystem
 * server's `edit_file` returns: `Index:` line, `---`/`+++` headers, `@@` hunks.
 * @returns the diff text; only headers when the texts are equal
 */
export function unifiedDiff(path: string, before: string, after: string): string {
  const lines = (text: string) => (text === '' ? [] : (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n'))
  const ops = diffLines(lines(before), lines(after))
  const out = [`Index: ${path}`, '='.repeat(67), `--- ${path}\toriginal`, `+++ ${path}\tmodified`]
  // Line numbers before each op.
  const aAt: number[] = []
  const bAt: number[] = []
  let a = 0
  let b = 0
  for (const o of ops) {
    aAt.push(a)
    bAt.push(b)
    if (o.op !== '+') a++
    if (o.op !== '-') b++
  }
  let k = 0
  while (k < ops.length) {
    while (k < ops.length && ops[k]!.op === ' ') k++
    if (k >= ops.length) break
    const start = Math.max(0, k - CONTEXT)
    let end = k
    // Extend while the next change is within 2*CONTEXT unchanged lines.
    for (;;) {
      while (end < ops.length && ops[end]!.op !== ' ') end++
      let next = end
      while (next < ops.length && ops[next]!.op === ' ') next++
      if (next < ops.length && next - end <= 2 * CONTEXT) end = next
      else break
    }
    const stop = Math.min(ops.length, end + CONTEXT)
    const hunk = ops.slice(start, stop)
    const aCount = hunk.filter((o) => o.op !== '+').length
    const bCount = hunk.filter((o) => o.op !== '-').length
    out.push(`@@ -${aCount ? aAt[start]! + 1 : aAt[start]!},${aCount} +${bCount ? bAt[start]! + 1 : bAt[start]!},${bCount} @@`)
    for (const o of hunk) out.push(o.op + o.text)
    k = stop
  }
  return out.join('\n') + '\n'
}
