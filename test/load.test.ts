import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createClient,
  createSession,
  deleteSession,
  exec,
  getLabels,
  getMetrics,
  getSessionStatus,
  keepAlive,
  listDir,
  listSessions,
  readFile,
  runCode,
  sessionInfo,
  setLabels,
  stat,
  writeFile,
  type Client,
  type Session,
} from '../src/index.ts'
import { IMAGE } from './helpers/local.ts'
import { startLocalWorker, type WorkerLocal } from './helpers/localWorker.ts'

// Load: 200 concurrent sessions, each running 10 mixed operations, through ONE client, over
// real loopback HTTP. AGB Local runs in a worker thread so this thread's heap is the SDK's
// (and the test's) alone. Every result is checked; zero failures and zero leaked sessions.

const SESSIONS = 200
const OPS_PER_SESSION = 10
/** Every 4th session runs Python code (a kernel per session); the rest do without a kernel. */
const KERNEL_EVERY = Number(process.env.LOAD_KERNEL_EVERY ?? 4)

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const heap = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

let local: WorkerLocal
let client: Client
beforeAll(async () => {
  local = await startLocalWorker({ maxSessions: 250 })
  client = createClient({ apiKey: local.apiKey, endpoint: local.url })
})
afterAll(async () => {
  await local?.close()
})

interface Failure {
  session: number
  op: string
  error: string
}

const latencies = new Map<string, number[]>()
const failures: Failure[] = []

/** Runs one named operation, timing it; a failure is recorded, never thrown. */
async function op<T>(session: number, name: string, run: () => Promise<T>, check?: (value: T) => boolean): Promise<T | undefined> {
  const started = performance.now()
  try {
    const value = await run()
    if (check && !check(value)) throw new Error(`unexpected result: ${JSON.stringify(value)?.slice(0, 200)}`)
    return value
  } catch (error) {
    failures.push({ session, op: name, error: error instanceof Error ? error.message : String(error) })
    return undefined
  } finally {
    const list = latencies.get(name) ?? []
    list.push(performance.now() - started)
    latencies.set(name, list)
  }
}

/** The 10 operations of session `i`: files, shell, status, labels, and code for every 4th. */
async function work(i: number, s: Session, run: string): Promise<void> {
  const content = `session ${i}\n${'x'.repeat(i * 7)}`
  const path = '/home/user/data.txt'
  await op(i, 'writeFile', () => writeFile(client, s, path, content))
  await op(i, 'readFile', () => readFile(client, s, path), (text) => text === content)
  await op(i, 'listDir', () => listDir(client, s, '/home/user'), (entries) => entries.some((e) => e.name === 'data.txt' && e.type === 'file'))
  await op(i, 'stat', () => stat(client, s, path), (info) => info.size === new TextEncoder().encode(content).length && !info.isDirectory)
  await op(i, 'exec', () => exec(client, s, 'head -n1 data.txt && echo "$N"', { env: { N: String(i) } }), (r) => r.exitCode === 0 && r.stdout === `session ${i}\n${i}\n`)
  await op(i, 'getSessionStatus', () => getSessionStatus(client, s), (status) => status.toUpperCase() === 'RUNNING')
  await op(i, 'setLabels', () => setLabels(client, s, { load: run, index: String(i) }))
  await op(i, 'getLabels', () => getLabels(client, s), (labels) => labels.index === String(i) && labels.load === run)
  if (i % KERNEL_EVERY === 0) await op(i, 'runCode', () => runCode(client, s, `sum(range(${i}))`), (r) => r.success && r.text === String((i * (i - 1)) / 2))
  else await op(i, 'sessionInfo', () => sessionInfo(client, s), (info) => info.sessionId === s.id)
  if (i % 2 === 0) await op(i, 'getMetrics', () => getMetrics(client, s), (m) => (m.cpuCount ?? 0) > 0)
  else await op(i, 'keepAlive', () => keepAlive(client, s))
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

describe('load', () => {
  it(`${SESSIONS} concurrent sessions × ${OPS_PER_SESSION} mixed operations through one client: no failure, no leak`, async () => {
    const run = `load-${Date.now().toString(36)}`
    // Warm up first (fetch's and valibot's lazy set-up, JIT), so growth measures what the load retains.
    await Promise.all(
      [1, 4].map(async (i) => {
        const s = await createSession(client, { imageId: IMAGE, labels: { load: `${run}-warm` } })
        await work(i, s, `${run}-warm`)
        await deleteSession(client, s)
      }),
    )
    expect(failures).toEqual([])
    latencies.clear()
    const heapBefore = heap()
    let heapPeak = heapBefore
    const sampler = setInterval(() => {
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)
    }, 100)
    const started = performance.now()
    let deleted = 0
    await Promise.all(
      Array.from({ length: SESSIONS }, async (_, i) => {
        const session = await op(i, 'createSession', () => createSession(client, { imageId: IMAGE, labels: { load: run } }))
        if (!session) return
        try {
          await work(i, session, run)
        } finally {
          if (await op(i, 'deleteSession', () => deleteSession(client, session), (r) => r.confirmed)) deleted++
        }
      }),
    )
    const seconds = (performance.now() - started) / 1000
    clearInterval(sampler)
    const heapAfter = heap()
    // Idle keep-alive connections (fetch's pool: up to one per concurrent session) close after
    // ~4 s; what stays after that is what the SDK retains.
    await new Promise((r) => setTimeout(r, 5_000))
    const heapSettled = heap()

    const ops = [...latencies].filter(([name]) => name !== 'createSession' && name !== 'deleteSession').reduce((n, [, list]) => n + list.length, 0)
    const calls = [...latencies.values()].reduce((n, list) => n + list.length, 0)
    const all = [...latencies.values()].flat().sort((a, b) => a - b)
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
    const rows = [...latencies].map(([name, list]) => {
      const sorted = [...list].sort((a, b) => a - b)
      return `  ${name.padEnd(16)} n=${String(list.length).padStart(4)}  p50 ${pct(sorted, 50).toFixed(0).padStart(5)} ms  p95 ${pct(sorted, 95).toFixed(0).padStart(5)} ms`
    })
    console.log(
      `\nLoad: ${SESSIONS} concurrent sessions × ${OPS_PER_SESSION} ops = ${ops} ops (+${SESSIONS} creates, +${deleted} deletes) through one client in ${seconds.toFixed(1)} s: ` +
        `${(ops / seconds).toFixed(0)} ops/s (${(calls / seconds).toFixed(0)} SDK calls/s), p50 ${pct(all, 50).toFixed(0)} ms, p95 ${pct(all, 95).toFixed(0)} ms, ` +
        `failed operations: ${failures.length}; SDK heap after GC ${mb(heapBefore)} MB → ${mb(heapAfter)} MB right after (+${mb(heapAfter - heapBefore)} MB, idle sockets included) → ` +
        `${mb(heapSettled)} MB 5 s later (+${mb(heapSettled - heapBefore)} MB retained), peak ${mb(heapPeak)} MB\n${rows.join('\n')}\n`,
    )

    expect(failures, JSON.stringify(failures.slice(0, 5), null, 2)).toEqual([])
    expect(ops).toBe(SESSIONS * OPS_PER_SESSION)
    expect(deleted).toBe(SESSIONS)
    // No leaked sessions or sandbox processes, as AGB Local sees it and as the API lists them.
    const deadline = Date.now() + 15_000
    let stats = await local.stats()
    while ((stats.live || stats.processes) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
      stats = await local.stats()
    }
    expect({ live: stats.live, processes: stats.processes }).toEqual({ live: 0, processes: 0 })
    expect((await listSessions(client, { labels: { load: run } })).sessions).toEqual([])
    // The SDK holds nothing per session once the work is done: retained heap stays small.
    expect(heapSettled - heapBefore).toBeLessThan(8 * 1024 * 1024)
  }, 120_000)
})
