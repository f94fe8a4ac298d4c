// `npm run bench`: builds the package, then prints one markdown table of sizes, import times,
// per-call overhead, throughput and large-data figures (see bench/README.md). Every row that
// fails prints `n/a (reason)`; the exit code is 0 either way.
import { execFileSync } from 'node:child_process'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { createAgbLocal, serve } from '../server/index.ts'
import { agbLocalRows } from './agbLocal.ts'
import { before } from './before.ts'
import { bundleRows } from './bundle.ts'
import { coldImportRows } from './coldImport.ts'
import { largeDataRows } from './largeData.ts'
import { ROOT, progress, reason, withTimeout, type Row } from './lib.ts'
import { overheadRows, type LocalTarget } from './overhead.ts'
import { streamingRows } from './streaming.ts'
import { throughputRows } from './throughput.ts'

/** The whole bench is cut off after this long; the rows measured so far are printed. */
const WATCHDOG_MS = 400_000

const started = performance.now()
const rows: Row[] = []
let printed = false

function git(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'package.json'], { cwd: ROOT, encoding: 'utf8' }).trim()
    return `${sha}${dirty ? ' + uncommitted src changes' : ''}`
  } catch {
    return 'unknown'
  }
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

function print(): void {
  if (printed) return
  printed = true
  const load = loadavg().map((l) => l.toFixed(2)).join(' ')
  const lines = [
    `## agb-micro benchmark`,
    '',
    `Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · commit ${git()}`,
    `Machine: ${availableParallelism()} CPUs (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, load average ${startLoad} at start / ${load} at end`,
    `In-process rows run on Node ${process.version} (${process.platform}-${process.arch}); figures are medians of the runs shown. KiB = 1024 B, MB = 10^6 B.`,
    '',
    '| # | measurement | result | before the lean-core rework | detail | runs |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${cell(r.id)} | ${cell(r.what)} | ${cell(r.result)} | ${cell(before(r))} | ${cell(r.note)} | ${cell(r.runs)} |`),
    '',
    `Bench time: ${((performance.now() - started) / 1000).toFixed(1)} s`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

const startLoad = loadavg().map((l) => l.toFixed(2)).join(' ')

const watchdog = setTimeout(() => {
  rows.push({ id: '-', what: 'watchdog', result: `n/a (bench cut off after ${WATCHDOG_MS / 1000} s; rows missing above did not finish)`, note: '', runs: '-' })
  print()
  process.exit(0)
}, WATCHDOG_MS)
watchdog.unref()

/** Runs one section; a section that throws or hangs becomes one `n/a` row. */
async function section(id: string, name: string, timeoutMs: number, run: () => Promise<Row[]>): Promise<void> {
  progress(`${id} ${name}…`)
  const t = performance.now()
  try {
    rows.push(...(await withTimeout(run(), timeoutMs, name)))
  } catch (error) {
    rows.push({ id, what: name, result: `n/a (${reason(error)})`, note: '', runs: '-' })
  }
  progress(`${id} ${name} done in ${((performance.now() - t) / 1000).toFixed(1)} s`)
}

let target: LocalTarget | undefined
let server: Awaited<ReturnType<typeof serve>> | undefined
try {
  await section('1', 'bundle size', 60_000, bundleRows)
  await section('2', 'cold import', 90_000, () => coldImportRows(15))
  const local = createAgbLocal()
  try {
    server = await serve(local, { port: 0 })
    target = { local, url: server.url }
  } catch (error) {
    rows.push({ id: '3', what: 'AGB Local on loopback', result: `n/a (${reason(error)})`, note: '', runs: '-' })
  }
  if (target) {
    const t = target
    await section('3', 'per-call overhead', 90_000, () => overheadRows(t))
    await section('4', 'throughput', 90_000, () => throughputRows(t))
    await section('5', 'large data', 120_000, () => largeDataRows(t))
    await section('6', 'streaming', 60_000, () => streamingRows(t))
  }
  await section('7', 'AGB Local capacity', 150_000, agbLocalRows)
  await withTimeout(server?.close() ?? Promise.resolve(), 10_000, 'server close').catch(() => undefined)
  await withTimeout(local.close(), 20_000, 'AGB Local close').catch(() => undefined)
} catch (error) {
  rows.push({ id: '-', what: 'bench', result: `n/a (${reason(error)})`, note: '', runs: '-' })
} finally {
  print()
  // Stray timers or sockets of a failed row must not keep the process (or CI) waiting.
  process.exit(0)
}
