// Section 6: streamed output over the session WebSocket against AGB Local on loopback.
// Time to first chunk (from calling streamCode to the first stdout event) and chunks per
// second for a program that prints as fast as it can.
import { WebSocket } from 'ws'
import { createClient, createSession, deleteSession, streamCode } from '../src/index.ts'
import { fmtInt, fmtMs, median, type Row } from './lib.ts'
import type { LocalTarget } from './overhead.ts'

export async function streamingRows(target: LocalTarget): Promise<Row[]> {
  // Node 20 has no global WebSocket: use ws's there, as a Node 20 user would.
  const webSocket = (globalThis as { WebSocket?: unknown }).WebSocket ? {} : { webSocket: WebSocket as never }
  const client = createClient({ apiKey: target.local.apiKey, endpoint: target.url, ...webSocket })
  const session = await createSession(client, { imageId: 'agb-code-space-1' })
  try {
    // Warm the kernel and the socket first: the rows measure the steady state.
    for await (const _ of streamCode(client, session, "print('warm')")) void _
    const firsts: number[] = []
    for (let i = 0; i < 15; i++) {
      const t = performance.now()
      let first = 0
      for await (const e of streamCode(client, session, "print('x', flush=True)\nimport time\ntime.sleep(0.05)")) if (e.type === 'stdout' && !first) first = performance.now() - t
      firsts.push(first)
    }
    const rates: number[] = []
    let chunks = 0
    for (let i = 0; i < 3; i++) {
      const t = performance.now()
      chunks = 0
      for await (const e of streamCode(client, session, "for i in range(3000): print(i, flush=True)")) if (e.type === 'stdout') chunks++
      rates.push(chunks / ((performance.now() - t) / 1000))
    }
    return [
      { id: '6a', what: 'streamCode: time to first stdout chunk (warm kernel, loopback)', result: fmtMs(median(firsts)), note: 'from the call to the first event; includes the run_code frame round trip', runs: String(firsts.length) },
      { id: '6b', what: 'streamCode: chunks per second (3000 flushed prints)', result: `${fmtInt(median(rates))} chunks/s`, note: `${chunks} stdout events per run, one per line`, runs: String(rates.length) },
    ]
  } finally {
    await deleteSession(client, session).catch(() => undefined)
  }
}
