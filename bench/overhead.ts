// Section 3: per-call overhead of the SDK's exec against a hand-written raw fetch doing the same
// request. SDK and raw rounds alternate (and swap order each round) in the same process, so
// both see the same machine state. Real AGB Local rows run in this process; the instant-handler
// rows run in a child per runtime (fixtures/overhead.mjs).
import { join } from 'node:path'
import { createClient, createSession, deleteSession, exec } from 'agb-micro'
import type { AgbLocal } from '../server/index.ts'
import { rawExec, serveInstant } from './fake.ts'
import { FIXTURES, childResult, fmtMs, fmtRatio, median, reason, runChild, withTimeout, type Row } from './lib.ts'
import { label, runtimes, withDenoDir } from './runtimes.ts'

/** Median milliseconds per call of two alternating workloads. */
export async function compare(
  sdk: () => Promise<unknown>,
  raw: () => Promise<unknown>,
  o: { rounds: number; batch: number; warmup: number },
): Promise<{ sdk: number; raw: number; ratio: number }> {
  for (let i = 0; i < o.warmup; i++) {
    await sdk()
    await raw()
  }
  const times = { sdk: [] as number[], raw: [] as number[] }
  const time = async (fn: () => Promise<unknown>) => {
    const started = performance.now()
    for (let i = 0; i < o.batch; i++) await fn()
    return (performance.now() - started) / o.batch
  }
  for (let r = 0; r < o.rounds; r++) {
    if (r % 2) {
      times.raw.push(await time(raw))
      times.sdk.push(await time(sdk))
    } else {
      times.sdk.push(await time(sdk))
      times.raw.push(await time(raw))
    }
  }
  const s = median(times.sdk)
  const w = median(times.raw)
  return { sdk: s, raw: w, ratio: s / w }
}

/** Where AGB Local runs for the overhead and throughput rows. */
export interface LocalTarget {
  local: AgbLocal
  /** Loopback URL of the same AgbLocal. */
  url: string
}

const IN_PROCESS = 'http://agb.local'

function row(id: string, what: string, r: { sdk: number; raw: number; ratio: number }, o: { rounds: number; batch: number }, note: string): Row {
  return {
    id,
    what,
    result: `SDK ${fmtMs(r.sdk)} vs raw ${fmtMs(r.raw)} → ${fmtRatio(r.ratio)}`,
    note: `${r.sdk >= r.raw ? '+' : '−'}${fmtMs(Math.abs(r.sdk - r.raw))} per call${note ? `; ${note}` : ''}`,
    runs: `${o.rounds} rounds × ${o.batch} call${o.batch > 1 ? 's' : ''}`,
  }
}

/** All rows of section 3. */
export async function overheadRows(target: LocalTarget): Promise<Row[]> {
  const rows: Row[] = []
  const { local, url } = target
  const apiKey = local.apiKey

  // (i) and (ii): real AGB Local (a shell process per call dominates).
  const real = { rounds: 41, batch: 1, warmup: 3 }
  const injected = createClient({ apiKey, endpoint: IN_PROCESS, fetch: local.fetch })
  let session: Awaited<ReturnType<typeof createSession>> | undefined
  try {
    session = await withTimeout(createSession(injected, { imageId: 'agb-code-space-1' }), 30_000, 'createSession')
    const id = session.id
    const check = await exec(injected, session, 'true')
    if (check.exitCode !== 0) throw new Error(`exec 'true' returned exit code ${check.exitCode}`)
    for (const [tag, what, client, fetchFn, endpoint] of [
      ['3a', 'exec(\'true\') vs raw fetch, AGB Local injected handler (in-process; goal ≤ 1.10×)', injected, local.fetch as typeof fetch, IN_PROCESS],
      ['3b', 'exec(\'true\') vs raw fetch, AGB Local over loopback HTTP', createClient({ apiKey, endpoint: url }), globalThis.fetch, url],
    ] as const) {
      try {
        const r = await withTimeout(compare(() => exec(client, id, 'true'), () => rawExec(fetchFn, endpoint, apiKey, id), real), 60_000, what)
        rows.push(row(tag, what, r, real, 'a sandboxed shell is spawned per call'))
      } catch (error) {
        rows.push({ id: tag, what, result: `n/a (${reason(error)})`, note: '', runs: '-' })
      }
    }
  } catch (error) {
    rows.push({ id: '3a', what: 'exec vs raw fetch, real AGB Local', result: `n/a (${reason(error)})`, note: '', runs: '-' })
  } finally {
    if (session) await withTimeout(deleteSession(injected, session), 30_000, 'deleteSession').catch(() => undefined)
  }

  // (iii): the instant handler isolates what the SDK itself costs per call, in each runtime
  // (a child per runtime running fixtures/overhead.mjs: handler and client in one process).
  const fast = { rounds: 21, batch: 500, warmup: 2000 }
  await withDenoDir(async (denoDir) => {
    for (const rt of runtimes(denoDir)) {
      let what = `exec('true') vs raw fetch, instant in-process handler, ${rt.name} (the SDK's own cost: the handler does no work)`
      try {
        what = what.replace(rt.name, await label(rt))
        const run = await runChild(rt.command, rt.args(join(FIXTURES, 'overhead.mjs'), [String(fast.rounds), String(fast.batch), String(fast.warmup)]), { env: rt.env, timeoutMs: 60_000 })
        const r = childResult<{ sdk: number; raw: number }>(run, `${rt.name} overhead.mjs`)
        rows.push(row('3c', what, { sdk: r.sdk / 1000, raw: r.raw / 1000, ratio: r.sdk / r.raw }, fast, 'the handler answers the shell envelope without work'))
      } catch (error) {
        rows.push({ id: '3c', what, result: `n/a (${reason(error)})`, note: '', runs: '-' })
      }
    }
  })

  // (iv): the same instant answer over loopback HTTP: what the overhead is next to a socket.
  const what3d = 'exec(\'true\') vs raw fetch, instant handler over loopback HTTP'
  const loop = { rounds: 21, batch: 50, warmup: 200 }
  let server: Awaited<ReturnType<typeof serveInstant>> | undefined
  try {
    server = await serveInstant()
    const s = server
    const client = createClient({ apiKey: 'akm-bench', endpoint: s.url })
    const r = await withTimeout(compare(() => exec(client, 's-bench', 'true'), () => rawExec(globalThis.fetch, s.url, 'akm-bench', 's-bench'), loop), 60_000, what3d)
    rows.push(row('3d', what3d, r, loop, 'node:http server in the same process'))
  } catch (error) {
    rows.push({ id: '3d', what: what3d, result: `n/a (${reason(error)})`, note: '', runs: '-' })
  } finally {
    await server?.close()
  }
  return rows
}
