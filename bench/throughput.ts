// Section 4: calls per second at a fixed number of calls in flight, and the client heap each
// in-flight call holds (a child `node --expose-gc`, fixtures/heap.mjs).
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { NODE24 } from './runtimes.ts'
import { createClient, createSession, deleteSession, exec, runCode } from 'agb-micro'
import { instantFetch, rawExec } from './fake.ts'
import { FIXTURES, ROOT, childResult, fmtBytes, fmtInt, fmtRatio, median, reason, runChild, withTimeout, type Row } from './lib.ts'
import type { LocalTarget } from './overhead.ts'

/**
 * Calls per second with `concurrency` workers each calling in a loop until `ms` have passed
 * (calls in flight at the deadline are finished and counted).
 */
export async function callsPerSecond(call: () => Promise<unknown>, concurrency: number, ms: number): Promise<number> {
  let done = 0
  const started = performance.now()
  const end = started + ms
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await call()
        done++
      }
    }),
  )
  return done / ((performance.now() - started) / 1000)
}

const LEVELS = [1, 16, 64, 256]

/** All rows of section 4. */
export async function throughputRows(target: LocalTarget): Promise<Row[]> {
  const rows: Row[] = []

  // The instant handler: the SDK's own ceiling, next to the raw request's.
  const fast = { rounds: 3, ms: 300 }
  const fake = createClient({ apiKey: 'akm-bench', endpoint: 'http://agb.local', fetch: instantFetch })
  const sdk = () => exec(fake, 's-bench', 'true')
  const raw = () => rawExec(instantFetch, 'http://agb.local', 'akm-bench', 's-bench')
  for (let i = 0; i < 2000; i++) {
    await sdk()
    await raw()
  }
  for (const c of LEVELS) {
    const what = `exec throughput, instant in-process handler, ${c} in flight`
    try {
      const s: number[] = []
      const r: number[] = []
      for (let i = 0; i < fast.rounds; i++) {
        s.push(await withTimeout(callsPerSecond(sdk, c, fast.ms), 30_000, what))
        r.push(await withTimeout(callsPerSecond(raw, c, fast.ms), 30_000, what))
      }
      const ms = median(s)
      const mr = median(r)
      rows.push({ id: '4a', what, result: `${fmtInt(ms)} calls/s`, note: `raw fetch ${fmtInt(mr)} calls/s (SDK at ${fmtRatio(ms / mr)} of raw)`, runs: `${fast.rounds} × ${fast.ms} ms` })
    } catch (error) {
      rows.push({ id: '4a', what, result: `n/a (${reason(error)})`, note: '', runs: '-' })
    }
  }

  // Real AGB Local over loopback: a sandboxed shell per exec, a warm python kernel per runCode.
  const real = { rounds: 3, ms: 1000 }
  const client = createClient({ apiKey: target.local.apiKey, endpoint: target.url })
  let session: Awaited<ReturnType<typeof createSession>> | undefined
  try {
    session = await withTimeout(createSession(client, { imageId: 'agb-code-space-1' }), 30_000, 'createSession')
    const s = session
    const ops: [string, () => Promise<unknown>][] = [
      ['exec(\'true\')', () => exec(client, s, 'true')],
      ['runCode(\'1 + 1\')', async () => {
        const r = await runCode(client, s, '1 + 1')
        if (!r.success) throw new Error(`runCode failed: ${r.error?.value ?? ''}`)
      }],
    ]
    for (const [name, call] of ops) {
      await call() // the first runCode starts the kernel
      for (const c of [1, 16]) {
        const what = `${name} throughput, AGB Local over loopback, ${c} in flight (one session)`
        try {
          const samples: number[] = []
          for (let i = 0; i < real.rounds; i++) samples.push(await withTimeout(callsPerSecond(call, c, real.ms), 60_000, what))
          rows.push({ id: '4b', what, result: `${fmtInt(median(samples))} calls/s`, note: name.startsWith('exec') ? 'spawns a sandboxed shell per call' : 'one stateful python kernel per session', runs: `${real.rounds} × ${real.ms} ms` })
        } catch (error) {
          rows.push({ id: '4b', what, result: `n/a (${reason(error)})`, note: '', runs: '-' })
        }
      }
    }
  } catch (error) {
    rows.push({ id: '4b', what: 'exec/runCode throughput, AGB Local over loopback', result: `n/a (${reason(error)})`, note: '', runs: '-' })
  } finally {
    if (session) await withTimeout(deleteSession(client, session), 30_000, 'deleteSession').catch(() => undefined)
  }

  // Heap per in-flight call, in a child `node --expose-gc` per Node version (fixtures/heap.mjs).
  const n = 2000
  const heapRounds = 5
  for (const node of ['/usr/bin/node', ...(existsSync(NODE24) ? [NODE24] : [])]) {
    let what = `client heap per in-flight exec call (${n} in flight, fetch held open), ${node}`
    try {
      const version = (await runChild(node, ['--version'], { timeoutMs: 10_000 })).stdout.trim()
      if (version) what = `client heap per in-flight exec call (${n} in flight, fetch held open), Node ${version}`
      const run = await runChild(node, ['--expose-gc', join(FIXTURES, 'heap.mjs'), String(n), String(heapRounds)], { timeoutMs: 60_000 })
      const r = childResult<{ sdk: number; raw: number; rounds: number }>(run, 'heap.mjs')
      rows.push({ id: '4c', what, result: fmtBytes(r.sdk), note: `raw fetch ${fmtBytes(r.raw)} (SDK ${fmtRatio(r.sdk / r.raw)}); heapUsed after gc, divided by ${n}`, runs: `${r.rounds} rounds` })
    } catch (error) {
      rows.push({ id: '4c', what, result: `n/a (${reason(error)})`, note: '', runs: '-' })
    }
  }
  return rows
}
