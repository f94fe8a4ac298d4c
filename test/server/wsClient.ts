import { randomUUID } from 'node:crypto'
import { WebSocket } from 'ws'
import type { AgbLocal, Server } from '../../server/index.ts'

/** A frame as received, with the time it arrived. */
export interface Received {
  at: number
  frame: Record<string, any>
}

/** A test client for AGB Local's session WebSocket (PROTOCOL §7). */
export interface WsTestClient {
  ws: WebSocket
  /** Every frame received so far, in order. */
  frames: Received[]
  /** Resolves with the close code once the socket is closed. */
  closed: Promise<number>
  /** Sends a JSON frame. */
  send(frame: unknown): void
  /** Sends a run_code stream frame; returns its invocation id. */
  run(code: string, language?: string, timeoutS?: number, invocationId?: string): string
  /** Sends a cancel frame for an invocation. */
  cancel(invocationId: string): void
  /** Waits for the first frame (from `from` on) matching `check`. */
  next(check: (frame: Record<string, any>) => boolean, timeoutMs?: number): Promise<Received>
  /** Waits for the invocation's `end` or `error` frame; returns all its frames. */
  finished(invocationId: string, timeoutMs?: number): Promise<Received[]>
}

/** Opens `wsUrl` with `X-Access-Token: token`; resolves once open (rejects with the HTTP status on refusal). */
export function openWs(wsUrl: string, token: string | undefined): Promise<WsTestClient> {
  const ws = new WebSocket(wsUrl, token === undefined ? {} : { headers: { 'X-Access-Token': token } })
  const frames: Received[] = []
  const waiters = new Set<() => void>()
  ws.on('message', (data) => {
    frames.push({ at: performance.now(), frame: JSON.parse(String(data)) })
    for (const wake of waiters) wake()
  })
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  const client: WsTestClient = {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    run(code, language = 'python', timeoutS = 30, invocationId = randomUUID().replace(/-/g, '')) {
      client.send({ invocationId, source: 'SDK', target: 'wuying_codespace', data: { method: 'run_code', mode: 'stream', params: { language, timeoutS, code } } })
      return invocationId
    },
    cancel(invocationId) {
      client.send({ invocationId, source: 'SDK', target: 'wuying_codespace', data: { method: 'run_code', mode: 'cancel' } })
    },
    next(check, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        let seen = 0
        const wake = () => {
          for (; seen < frames.length; seen++) {
            if (check(frames[seen]!.frame)) {
              waiters.delete(wake)
              clearTimeout(timer)
              return resolve(frames[seen]!)
            }
          }
        }
        const timer = setTimeout(() => {
          waiters.delete(wake)
          reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames.map((f) => f.frame)).slice(0, 2000)}`))
        }, timeoutMs)
        waiters.add(wake)
        wake()
      })
    },
    async finished(invocationId, timeoutMs = 15_000) {
      await client.next((f) => f.invocationId === invocationId && ['end', 'error'].includes(f.data?.phase), timeoutMs)
      return frames.filter((f) => f.frame.invocationId === invocationId)
    },
  }
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client))
    ws.once('unexpected-response', (req, res) => {
      res.resume()
      req.destroy()
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }))
    })
    ws.once('error', reject)
  })
}

/** A session created over loopback on a served AGB Local: its id, wsUrl and token, as createSession returns them. */
export async function newSession(on: { local: AgbLocal; server: Server }): Promise<{ sessionId: string; wsUrl: string; token: string }> {
  const res = await fetch(`${on.server.url}/mcp/createSession?imageId=agb-code-space-1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${on.local.apiKey}`, 'content-type': 'application/json' },
    body: '{}',
  })
  return (await res.json()).data as { sessionId: string; wsUrl: string; token: string }
}

/** A new session on `on` and a WebSocket client connected to it. */
export async function connect(on: { local: AgbLocal; server: Server }): Promise<{ session: { sessionId: string; wsUrl: string; token: string }; client: WsTestClient }> {
  const session = await newSession(on)
  return { session, client: await openWs(session.wsUrl, session.token) }
}
