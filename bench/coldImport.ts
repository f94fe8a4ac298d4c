// Section 2: cold import of the built package in a fresh process per run, timed inside the
// process (performance.now() around `await import('agb-micro')`), next to the baseline of
// importing an empty module. Runs are interleaved (baseline, package, next runtime ...) so
// machine noise hits every figure alike.
import { join } from 'node:path'
import { FIXTURES, childResult, fmtMs, median, reason, runChild, type Row } from './lib.ts'
import { label, runtimes, withDenoDir, type Runtime } from './runtimes.ts'

const SCRIPT = join(FIXTURES, 'coldImport.mjs')

async function once(rt: Runtime, specifier: string): Promise<{ ms: number; wallMs: number }> {
  const run = await runChild(rt.command, rt.args(SCRIPT, [specifier]), { env: rt.env, timeoutMs: 20_000 })
  const { ms } = childResult<{ ms: number }>(run, `${rt.name} import ${specifier}`)
  return { ms, wallMs: run.wallMs }
}

interface Samples {
  ms: number[]
  wall: number[]
  error?: unknown
}

/** All rows of section 2. `runs` per runtime; two warm-up runs (file cache) are discarded. */
export function coldImportRows(runs = 15): Promise<Row[]> {
  return withDenoDir(async (denoDir) => {
    const live: { rt: Runtime; label: string; error?: unknown }[] = []
    for (const rt of runtimes(denoDir)) {
      const entry: { rt: Runtime; label: string; error?: unknown } = { rt, label: rt.name }
      try {
        entry.label = await label(rt)
        for (let i = 0; i < 2; i++) {
          await once(rt, 'none')
          await once(rt, 'agb-micro')
        }
      } catch (error) {
        entry.error = error
      }
      live.push(entry)
    }
    // System Node only: each dependency alone, to show what the package's import is made of.
    const node = live[0]!
    const jobs: { rt: Runtime; spec: string }[] = []
    for (const l of live) if (!l.error) jobs.push({ rt: l.rt, spec: 'none' }, { rt: l.rt, spec: 'agb-micro' })
    if (!node.error) jobs.push({ rt: node.rt, spec: 'ofetch' }, { rt: node.rt, spec: 'valibot' })
    const samples = new Map<string, Samples>()
    const key = (rt: Runtime, spec: string) => `${rt.name}\0${spec}`
    for (let i = 0; i < runs; i++) {
      for (const { rt, spec } of jobs) {
        const s = samples.get(key(rt, spec)) ?? { ms: [], wall: [] }
        samples.set(key(rt, spec), s)
        if (s.error) continue
        try {
          const r = await once(rt, spec)
          s.ms.push(r.ms)
          s.wall.push(r.wallMs)
        } catch (error) {
          s.error = error
        }
      }
    }
    const rows: Row[] = []
    for (const l of live) {
      const what = `cold import('agb-micro'), ${l.label}`
      const base = samples.get(key(l.rt, 'none'))
      const pkg = samples.get(key(l.rt, 'agb-micro'))
      const error = l.error ?? base?.error ?? pkg?.error
      if (error || !base || !pkg) {
        rows.push({ id: '2', what, result: `n/a (${reason(error ?? 'no samples')})`, note: '', runs: '-' })
        continue
      }
      const b = median(base.ms)
      const p = median(pkg.ms)
      rows.push({
        id: '2',
        what,
        result: fmtMs(p),
        note: `empty-module import ${fmtMs(b)} (package +${fmtMs(p - b)}); whole process ${fmtMs(median(pkg.wall))} vs ${fmtMs(median(base.wall))} empty (goal < 15 ms on Node)`,
        runs: String(pkg.ms.length),
      })
    }
    for (const spec of ['ofetch', 'valibot']) {
      const s = samples.get(key(node.rt, spec))
      const what = spec === 'ofetch' ? `cold import('ofetch') alone, ${node.label} (a dependency's share of the above)` : `cold import('${spec}') alone, ${node.label} (a dependency's share of the above)`
      if (!s || s.error || node.error) rows.push({ id: '2', what, result: `n/a (${reason(s?.error ?? node.error ?? 'no samples')})`, note: '', runs: '-' })
      else rows.push({ id: '2', what, result: fmtMs(median(s.ms)), note: '', runs: String(s.ms.length) })
    }
    return rows
  })
}
