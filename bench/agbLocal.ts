// Section 7: AGB Local itself, over loopback. The full session lifecycle latency, and how many
// concurrent sessions (each creating, running python and deleting) it sustains on this machine.
import { createClient, createSession, deleteSession, runCode } from '../src/index.ts'
import { createAgbLocal, serve } from '../server/index.ts'
import { fmtMs, median, type Row } from './lib.ts'

export async function agbLocalRows(): Promise<Row[]> {
  const local = createAgbLocal({ maxSessions: 400 })
  const server = await serve(local, { port: 0 })
  const client = createClient({ apiKey: local.apiKey, endpoint: server.url, timeout: 120_000 })
  const cycle = async () => {
    const t = performance.now()
    const session = await createSession(client, { imageId: 'agb-code-space-1' })
    const r = await runCode(client, session, '6 * 7')
    await deleteSession(client, session)
    if (r.text !== '42') throw new Error(`unexpected result ${r.text}`)
    return performance.now() - t
  }
  try {
    await cycle() // warm the interpreter caches
    const times: number[] = []
    for (let i = 0; i < 10; i++) times.push(await cycle())
    const rows: Row[] = [
      { id: '7a', what: 'AGB Local: createSession → runCode (python) → deleteSession, sequential', result: fmtMs(median(times)), note: 'a fresh bubblewrap sandbox and python kernel per session; delete waits until gone', runs: String(times.length) },
    ]
    let sustained = 0
    for (const n of [25, 50, 100, 200]) {
      const t = performance.now()
      const results = await Promise.allSettled(Array.from({ length: n }, cycle))
      const failed = results.filter((r) => r.status === 'rejected').length
      const wall = performance.now() - t
      rows.push({ id: '7b', what: `AGB Local: ${n} concurrent sessions, each create → runCode → delete`, result: failed ? `${failed} of ${n} failed` : `all ${n} ok in ${fmtMs(wall)}`, note: `${(n / (wall / 1000)).toFixed(1)} lifecycles/s; ${local.liveSessions()} left alive`, runs: '1' })
      if (failed) break
      sustained = n
    }
    rows.push({ id: '7c', what: 'AGB Local: concurrent sessions sustained without a failure', result: `${sustained}`, note: 'largest step of 25/50/100/200 where every lifecycle succeeded', runs: '1' })
    return rows
  } finally {
    await server.close()
    await local.close()
  }
}
