import type { Client } from '../client.ts'
import { AgbError } from '../errors.ts'
import { sleep } from './sleep.ts'
import { socketClosers } from './socketClosers.ts'

/** The part of the WebSocket API we use; the global one, `ws`'s and workerd's all fit. */
export interface SocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: { data?: unknown; code?: number; message?: string }) => void): void
}

/** A shared connection: frames are routed to the stream waiting for their invocation id. */
export interface Connection {
  socket: SocketLike
  /** Invocation id → frame handler. */
  routes: Map<string, (data: Record<string, unknown> | undefined, closed?: AgbError) => void>
  /** Time of the last frame received (any frame, pongs included). */
  lastFrame: number
}

type Ctor = new (url: string, options?: { headers?: Record<string, string> }) => SocketLike

const connections = new Map<string, Promise<Connection>>()
/** Reconnect backoff per session socket: 0.5 s growing ×1.5 up to 5 s (as the official SDKs do). */
const backoffs = new Map<string, { delay: number; until: number }>()

const HEARTBEAT_MS = 20_000

/** Opens (or reuses) the session's socket; one per session, shared by concurrent streams. */
export function connect(client: Client, sessionId: string, wsUrl: string, token: string, signal: AbortSignal): Promise<Connection> {
  const key = `${sessionId} ${wsUrl}`
  let connection = connections.get(key)
  if (!connection) {
    const wait = Math.max(0, (backoffs.get(key)?.until ?? 0) - Date.now())
    connection = sleep(wait, signal)
      .then(() => open(client, wsUrl, token, signal))
      .then((socket) => adopt(key, socket))
    connections.set(key, connection)
    connection.catch(() => connections.delete(key))
    if (!socketClosers.size) socketClosers.add(closeSession)
  }
  return connection
}

function closeSession(sessionId: string) {
  for (const [key, connection] of connections) {
    if (!key.startsWith(`${sessionId} `)) continue
    connections.delete(key)
    connection.then((c) => c.socket.close(1000, 'session deleted'), () => undefined)
  }
}

function adopt(key: string, socket: SocketLike): Connection {
  const connection: Connection = { socket, routes: new Map(), lastFrame: Date.now() }
  // The official TS SDK's heartbeat: a text frame every 20 s (as the official SDKs do).
  const heartbeat = setInterval(() => {
    if (socket.readyState === 1) socket.send('{"type":"ping"}')
  }, HEARTBEAT_MS)
  ;(heartbeat as { unref?: () => void }).unref?.()
  socket.addEventListener('message', (event) => {
    connection.lastFrame = Date.now()
    let frame: Record<string, unknown>
    try {
      frame = JSON.parse(String(event.data)) as Record<string, unknown>
    } catch {
      return // not ours to read: ignore
    }
    const id = frame.invocationId ?? frame.requestId
    let data = frame.data
    if (typeof data === 'string') {
      try {
        data = JSON.parse(data)
      } catch {
        data = { phase: 'error', error: data }
      }
    }
    if (typeof id === 'string') connection.routes.get(id)?.(data as Record<string, unknown> | undefined)
  })
  backoffs.delete(key)
  const fail = (why: string) => {
    clearInterval(heartbeat)
    const delay = Math.min(5_000, (backoffs.get(key)?.delay ?? 333) * 1.5)
    backoffs.set(key, { delay, until: Date.now() + delay + Math.random() * 100 })
    if (connections.get(key)) connections.delete(key)
    const error = new AgbError('network', `[WebSocket] connection closed mid-stream (${why})`, { retryable: true, status: 0 })
    for (const route of connection.routes.values()) route(undefined, error)
    connection.routes.clear()
  }
  socket.addEventListener('close', (event) => fail(`code ${event.code ?? 'unknown'}`))
  socket.addEventListener('error', (event) => fail(event.message || 'socket error'))
  return connection
}

async function open(client: Client, url: string, token: string, signal: AbortSignal): Promise<SocketLike> {
  const headers = { 'X-Access-Token': token }
  const Pair = (globalThis as { WebSocketPair?: unknown }).WebSocketPair
  let socket: SocketLike
  if (!client.webSocket && Pair) {
    // Workers: a WebSocket client is a fetch with `Upgrade`, which can carry the token header.
    const response = (await (client.fetch ?? globalThis.fetch)(url.replace(/^ws/i, 'http'), { headers: { ...headers, Upgrade: 'websocket' }, signal })) as Response & {
      webSocket?: SocketLike & { accept(): void }
    }
    if (!response.webSocket) throw new AgbError(response.status === 401 || response.status === 403 ? 'unauthorized' : 'network', `[WebSocket] handshake refused: HTTP ${response.status}`, { status: response.status })
    response.webSocket.accept()
    return response.webSocket
  }
  const Ctor = (client.webSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket) as Ctor | undefined
  if (!Ctor) {
    throw new AgbError('unsupported', 'This runtime has no WebSocket: pass one to createClient, e.g. `createClient({ ..., webSocket: WebSocket })` with `import { WebSocket } from "ws"` on Node 20')
  }
  try {
    socket = new Ctor(url, { headers })
  } catch (error) {
    // Browsers reject the options object: they cannot send the token header at all.
    throw new AgbError('unsupported', 'This WebSocket cannot send the session token header (browsers cannot): stream through agb-micro/proxy instead', { cause: error })
  }
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      socket.close()
      reject(signal.reason)
    }
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    socket.addEventListener('open', () => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    })
    socket.addEventListener('error', (event) => reject(new AgbError('network', `[WebSocket] cannot connect: ${event.message || 'handshake failed'}`, { retryable: true, status: 0 })))
    socket.addEventListener('close', (event) => reject(new AgbError('network', `[WebSocket] closed during the handshake (code ${event.code ?? 'unknown'})`, { retryable: true, status: 0 })))
  })
  return socket
}
