import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { RawData, WebSocket } from 'ws'
import { MAX_TIMER_MS, type LocalConfig } from '../config.ts'
import { sameSecret } from '../http/checkBearer.ts'
import type { SessionStore } from '../sessions/createSessionStore.ts'
import type { Session } from '../sessions/Session.ts'
import { TOOL_SERVER } from '../tools/toolRegistry.ts'
import type { RecordedRequest } from '../types.ts'
import { refuse } from './refuse.ts'
import { STREAM_LANGUAGES, streamRunCode } from './streamRunCode.ts'

/** The WebSocket side of AGB Local (PROTOCOL §7). */
export interface WsGateway {
  /** For `serve()`'s `upgrade` event: `/ws/<sessionId>` with `X-Access-Token`, else an HTTP error. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Open sockets, of one session or all. */
  openSockets(sessionId?: string): number
  /** Destroys sockets (TCP) without a close frame, as a network failure would; returns how many. */
  dropSockets(sessionId?: string): number
  /** Closes the session's sockets (code 1000), cancelling their runs. */
  closeSession(session: Session): void
  /** Closes every socket (code 1001) and refuses later upgrades. */
  closeAll(): void
}

/** What the gateway works on. */
export interface WsGatewayDeps {
  config: LocalConfig
  store: SessionStore
  /** Upgrade requests are recorded here too (as `GET`, empty body). */
  requests: RecordedRequest[]
}

interface Connection {
  ws: WebSocket
  session: Session
  /** Runs this socket started, by invocation id. */
  runs: Map<string, AbortController>
  /** Set while more than SLOW_WS_BUFFERED_BYTES wait unsent: checks again after SLOW_WS_MS. */
  slow?: NodeJS.Timeout
}

const MAX_RECORDED = 1000
const DEFAULT_TIMEOUT_S = 60
/** A client that does not answer a close frame is cut off after this long. */
const CLOSE_GRACE_MS = 2000
/**
 * Frames a socket may have queued and unsent (its client not reading): the queue lives in the
 * server's memory, and sandboxed code writes far faster than a stalled client reads. Past
 * {@link SLOW_WS_BUFFERED_BYTES} for {@link SLOW_WS_MS} (a slow link still catches up with a
 * run's 32 MiB of results), or past {@link MAX_WS_BUFFERED_BYTES} at any moment, the socket is
 * closed and its runs cancelled.
 */
export const SLOW_WS_BUFFERED_BYTES = 16 * 1024 * 1024
/** See {@link SLOW_WS_BUFFERED_BYTES}. */
export const SLOW_WS_MS = 10_000
/** See {@link SLOW_WS_BUFFERED_BYTES}. */
export const MAX_WS_BUFFERED_BYTES = 64 * 1024 * 1024
/**
 * Runs one socket may have started and not yet finished (running or waiting for their kernel):
 * each waiting run holds its code and a place in the session's queue, so a client sending run
 * frames in a loop would otherwise pile them up without end. One more is answered with a
 * `phase:'error'` frame and not run.
 */
export const MAX_WS_RUNS = 16
/** Close code for a client that stopped reading (1008: policy violation), with a reason saying so. */
const TOO_SLOW = 1008

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Creates the session WebSocket endpoint: streaming `run_code` (events as the kernel produces
 * them, one `end` per invocation), `cancel` frames, `{"type":"ping"}` → `{"type":"pong"}`
 * (protocol pings are answered by `ws`), protocol errors as `phase:'error'` frames. Runs die
 * with the socket that started them.
 */
export function createWsGateway(deps: WsGatewayDeps): WsGateway {
  const { config, store, requests } = deps
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxBodyBytes, perMessageDeflate: false })
  const connections = new Set<Connection>()
  /** WebSocket handshakes in progress, per session and in total (they count against the caps). */
  const opening = new Map<Session, number>()
  let openingTotal = 0
  let closed = false

  function send(conn: Connection, frame: Record<string, unknown>): void {
    if (conn.ws.readyState !== conn.ws.OPEN) return
    // A client that does not read what it asked for: its runs are cancelled and the socket
    // closed, rather than output piling up here (output is never silently dropped mid-stream).
    const tooSlow = () => close(conn, TOO_SLOW, `client too slow: ${Math.round(conn.ws.bufferedAmount / 1024 / 1024)} MiB unsent; its runs were cancelled`)
    if (conn.ws.bufferedAmount > MAX_WS_BUFFERED_BYTES) return tooSlow()
    if (conn.ws.bufferedAmount > SLOW_WS_BUFFERED_BYTES && !conn.slow) {
      conn.slow = setTimeout(() => {
        conn.slow = undefined
        if (conn.ws.readyState === conn.ws.OPEN && conn.ws.bufferedAmount > SLOW_WS_BUFFERED_BYTES) tooSlow()
      }, SLOW_WS_MS)
      conn.slow.unref()
    }
    conn.ws.send(JSON.stringify(frame))
  }

  function protocolError(conn: Connection, invocationId: string | undefined, target: string | undefined, error: string): void {
    send(conn, { ...(invocationId ? { invocationId } : {}), ...(target ? { target } : {}), data: { phase: 'error', error } })
  }

  function startRun(conn: Connection, invocationId: string, target: string, params: Record<string, unknown>): void {
    const language = String(params.language ?? 'python').trim().toLowerCase()
    if (typeof params.code !== 'string') return protocolError(conn, invocationId, target, 'params.code must be a string')
    if (!STREAM_LANGUAGES.includes(language)) return protocolError(conn, invocationId, target, `unsupported language: ${language}. Supported: ${STREAM_LANGUAGES.join(', ')}`)
    const seconds = Number(params.timeoutS ?? params.timeout_s)
    const timeoutMs = Math.min((Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_TIMEOUT_S) * 1000, MAX_TIMER_MS)
    const { session } = conn
    const abort = new AbortController()
    conn.runs.set(invocationId, abort)
    session.activeCalls++
    store.touch(session)
    let seq = 0
    const frame = ({ phase, ...rest }: Record<string, unknown>) =>
      send(conn, { invocationId, target, data: { method: 'run_code', mode: 'stream', phase, seq: ++seq, ...rest } })
    streamRunCode(config, session, { language, code: params.code, timeoutMs, signal: abort.signal, send: frame })
      .catch((e: unknown) => frame({ phase: 'error', error: String((e as Error)?.message ?? e) }))
      .finally(() => {
        session.activeCalls--
        store.touch(session)
        conn.runs.delete(invocationId)
      })
  }

  function onMessage(conn: Connection, raw: RawData, isBinary: boolean): void {
    if (isBinary) return protocolError(conn, undefined, undefined, 'binary frames are not supported: send JSON text frames')
    let frame: unknown
    try {
      frame = JSON.parse(raw.toString())
    } catch {
      return protocolError(conn, undefined, undefined, 'malformed frame: not JSON')
    }
    if (!isObject(frame)) return protocolError(conn, undefined, undefined, 'malformed frame: not a JSON object')
    if (frame.type === 'ping') return send(conn, { type: 'pong' })
    if (frame.type === 'pong') return
    const idField = [frame.invocationId, frame.requestId].find((v) => typeof v === 'string' && v)
    const invocationId = idField as string | undefined
    const target = typeof frame.target === 'string' && frame.target ? frame.target : TOOL_SERVER
    if (!invocationId) return protocolError(conn, undefined, undefined, 'malformed frame: no invocationId')
    let data = frame.data
    if (typeof data === 'string') {
      try {
        data = JSON.parse(data)
      } catch {
        // reported below
      }
    }
    if (!isObject(data)) return protocolError(conn, invocationId, target, 'malformed frame: data must be an object')
    if (data.method !== 'run_code') return protocolError(conn, invocationId, target, `unsupported method ${JSON.stringify(data.method)}: only run_code streams`)
    if (data.mode === 'cancel') return void conn.runs.get(invocationId)?.abort()
    if (data.mode !== 'stream') return protocolError(conn, invocationId, target, `unsupported mode ${JSON.stringify(data.mode)}: expected stream or cancel`)
    if (conn.runs.has(invocationId)) return protocolError(conn, invocationId, target, `invocation ${invocationId} is already running`)
    if (conn.session.status !== 'RUNNING') return protocolError(conn, invocationId, target, 'session not found')
    if (conn.runs.size >= MAX_WS_RUNS) {
      return protocolError(conn, invocationId, target, `too many runs: this WebSocket has ${conn.runs.size} runs started and not finished (at most ${MAX_WS_RUNS}); wait for one to end, or cancel one`)
    }
    startRun(conn, invocationId, target, isObject(data.params) ? data.params : {})
  }

  function accept(ws: WebSocket, session: Session): void {
    const conn: Connection = { ws, session, runs: new Map() }
    connections.add(conn)
    ws.on('message', (raw, isBinary) => onMessage(conn, raw, isBinary))
    ws.on('error', () => {}) // 'close' follows
    ws.on('close', () => {
      clearTimeout(conn.slow)
      connections.delete(conn)
      for (const run of conn.runs.values()) run.abort() // nobody is listening any more
    })
  }

  function record(req: IncomingMessage): void {
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
    requests.push({ method: req.method ?? 'GET', url: `http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, headers, body: '' })
    if (requests.length > MAX_RECORDED) requests.splice(0, requests.length - MAX_RECORDED)
  }

  function close(conn: Connection, code: number, reason: string): void {
    for (const run of conn.runs.values()) run.abort()
    conn.ws.close(code, reason)
    setTimeout(() => conn.ws.terminate(), CLOSE_GRACE_MS).unref()
  }

  const matching = (sessionId?: string) => [...connections].filter((c) => sessionId === undefined || c.session.id === sessionId)

  return {
    handleUpgrade(req, socket, head) {
      socket.on('error', () => {}) // a client resetting mid-handshake must not crash the server
      record(req)
      if (closed) return refuse(socket, 503, 'ServiceUnavailable', 'AGB Local is closing')
      const match = /^\/ws\/([^/]+)\/?$/.exec(new URL(req.url ?? '/', 'http://localhost').pathname)
      let id = ''
      try {
        id = decodeURIComponent(match?.[1] ?? '')
      } catch {
        // not a session id
      }
      const session = id ? store.live(id) : undefined
      if (!session) return refuse(socket, 404, 'InvalidSession.NotFound', 'Session not found')
      const token = req.headers['x-access-token']
      if (typeof token !== 'string' || !sameSecret(token, session.token)) return refuse(socket, 401, 'InvalidAccessToken', 'missing or wrong X-Access-Token')
      // Caps, handshakes in progress included: one session (or code that learnt its token)
      // cannot pile up sockets.
      if (openingTotal + connections.size >= config.maxSockets) {
        return refuse(socket, 503, 'TooManySockets', `AGB Local has ${config.maxSockets} WebSockets open (its maxSockets): close one or retry later`)
      }
      if ((opening.get(session) ?? 0) + matching(session.id).length >= config.maxSocketsPerSession) {
        return refuse(socket, 429, 'TooManySockets', `the session has ${config.maxSocketsPerSession} WebSockets open (maxSocketsPerSession): close one first`)
      }
      opening.set(session, (opening.get(session) ?? 0) + 1)
      openingTotal++
      let settled = false
      const settle = () => {
        if (settled) return
        settled = true
        openingTotal--
        const left = (opening.get(session) ?? 1) - 1
        if (left) opening.set(session, left)
        else opening.delete(session)
      }
      socket.once('close', settle)
      wss.handleUpgrade(req, socket, head, (ws) => {
        settle()
        if (closed || session.status !== 'RUNNING') return ws.close(closed ? 1001 : 1000, closed ? 'AGB Local closing' : 'session released')
        accept(ws, session)
      })
    },
    openSockets: (sessionId) => matching(sessionId).length,
    dropSockets(sessionId) {
      const conns = matching(sessionId)
      for (const conn of conns) conn.ws.terminate()
      return conns.length
    },
    closeSession(session) {
      for (const conn of matching(session.id)) close(conn, 1000, 'session released')
    },
    closeAll() {
      closed = true
      for (const conn of connections) close(conn, 1001, 'AGB Local closing')
    },
  }
}
