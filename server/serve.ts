import { randomUUID } from 'node:crypto'
import { createServer, STATUS_CODES } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { isDroppedConnection } from './faults/droppedConnection.ts'
import { createHostCheck } from './http/createHostCheck.ts'
import { CORS_HEADERS, fail } from './http/envelope.ts'
import { peerOwner } from './http/peerOwner.ts'
import type { PeerOwner } from './http/peerOwner.ts'
import { requestBody } from './http/requestBody.ts'
import { createUnsentAnswers } from './http/createUnsentAnswers.ts'
import type { UnsentAnswers } from './http/createUnsentAnswers.ts'
import { SANDBOX_UID_BASE } from './sandbox/limits/sandboxUids.ts'
import type { AgbLocal, ServePolicy } from './types.ts'

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Default 0: an ephemeral port. */
  port?: number
  /** Default `127.0.0.1`: AGB Local runs code for whoever can reach it, keep it local. */
  host?: string
}

/** A listening AGB Local. */
export interface Server {
  /** `http://<host>:<port>`, the endpoint to configure in a client. */
  url: string
  port: number
  /** Stops listening and drops open connections, WebSockets included (does not close the AgbLocal). */
  close(): Promise<void>
}

const DEFAULT_POLICY: ServePolicy = { maxConnections: 512, requestTimeoutMs: 30_000, allowedHosts: [] }
/** Default of {@link ServePolicy.maxUnsentBytes}. */
const MAX_UNSENT_BYTES = 256 * 1024 * 1024
/**
 * Idle keep-alive connections: answers advertise `Keep-Alive: timeout=5`, and clients that
 * honour it stop reusing a connection after 3 s (undici: the hint minus 2 s); the server closes
 * it only after 15 s (plus Node's 1 s). The gap is the margin for a client whose event loop runs
 * late: without it (Node's defaults, 5 s advertised and 6 s enforced), a busy client reused
 * connections at the moment the server closed them, and its request met ECONNRESET. The close
 * still comes soon enough to free connection slots of clients that ignore the hint.
 */
const KEEP_ALIVE_MS = 15_000
const KEEP_ALIVE_ADVERTISED = 'timeout=5'
/**
 * After answering a request whose body was left unread (refused, too large, stalled), the
 * server stops writing, discards what still arrives, and destroys the connection this much
 * later: closing at once with unread bytes sends a TCP reset, which can make the client lose
 * the answer it has not read yet.
 */
const LINGER_MS = 2_000
/** Connections beyond maxConnections are answered 503 and closed; beyond twice it, dropped unanswered. */
const HARD_CAP_FACTOR = 2

/**
 * Connections of one sandbox (one host uid) waiting for their 403 at once, and of all sandboxes
 * together; more are reset unanswered. They never count against maxConnections, so no session
 * can crowd out the user, and the two caps bound the file descriptors a flood can take.
 */
const REFUSED_PER_SANDBOX = 24
const REFUSED_SANDBOX_TOTAL = 256
/** Connections one sandbox may keep open when `allowSandboxCallers` lets it call the API. */
const ALLOWED_PER_SANDBOX = 16
const SANDBOX_REFUSAL = 'AGB Local does not take API calls from its own sandboxes: this connection comes from sandboxed code ' +
  '(a host user AGB Local runs a session as); call it from outside the sandbox, or start AGB Local with ' +
  'allowSandboxCallers: true (--allow-sandbox-callers) and a secret API key'

/** What `serve()` decided about a connection when it was accepted. */
interface SocketState {
  /** Beyond maxConnections (or its sandbox's share): answered 503. */
  overCap: boolean
  /** From one of AGB Local's sandboxes and not allowed (or a local peer already gone): answered 403, never served. */
  sandbox?: boolean
  /** Settles once the peer's owner is known (local peers); requests wait for it. */
  ready?: Promise<void>
}
const sockets = new WeakMap<Socket, SocketState>()

/**
 * The one thing sandboxes may fetch: the static test page a browser session opens offline
 * (no key, nothing secret, no effect). The path is compared as the handler will see it.
 */
const SANDBOX_PAGE = '/local/test-page'
function isSandboxPage(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false
  try {
    return new URL(req.url ?? '/', 'http://127.0.0.1').pathname === SANDBOX_PAGE
  } catch {
    return false
  }
}

/** Sandbox host uids (see sandboxUids.ts: allocated from 2^30 up, never a system or login user). */
const isSandboxUid = (uid: number) => uid >= SANDBOX_UID_BASE && uid < 2 ** 32 - 1

function envelope(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  const res = fail(randomUUID().toUpperCase(), status, code, message)
  for (const [k, v] of Object.entries({ ...CORS_HEADERS, ...headers })) res.headers.set(k, v)
  return res
}

/** A raw HTTP answer on a socket that left the HTTP server's hands (an upgrade request). */
function refuseUpgrade(socket: Duplex, status: number, code: string, message: string, extra = ''): void {
  const body = JSON.stringify({ success: false, code, message, httpStatusCode: status })
  socket.on('error', () => {})
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nconnection: close\r\ncontent-type: application/json\r\n${extra}` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  setTimeout(() => socket.destroy(), LINGER_MS).unref()
}

/**
 * After a `connection: close` answer Node calls `socket.destroySoon()`, which destroys the
 * socket as soon as the answer is written: with body bytes still unread that sends a TCP reset,
 * and the client can lose the answer (a 413 or 403 it never sees). Instead: send FIN, stop
 * reading (Node has just set the rest of the body to be read and discarded, at whatever pace the
 * sender likes: once that has started, the socket is paused again and TCP flow control holds the
 * sender back), and destroy LINGER_MS later.
 */
function lingerAfterAnswer(req: IncomingMessage): void {
  req.socket.destroySoon = function lingeringClose(this: Socket) {
    this.end()
    setImmediate(() => this.pause())
    setTimeout(() => this.destroy(), LINGER_MS).unref()
  }
}

/**
 * Not async, and `response` is not kept: a body made from a string (every JSON answer) holds
 * that string until its stream ends, and so does the Response itself. The body is read to its
 * end as soon as its bytes are handed to the connection, so an answer waiting for its client
 * is held once (the bytes), not twice.
 */
function writeResponse(req: IncomingMessage, res: ServerResponse, response: Response, answers: UnsentAnswers): Promise<void> {
  try {
    return startResponse(req, res, response, answers)
  } catch (e) {
    return Promise.reject(e)
  }
}

function startResponse(req: IncomingMessage, res: ServerResponse, response: Response, answers: UnsentAnswers): Promise<void> {
  if (res.headersSent || res.destroyed) return Promise.resolve(response.body?.cancel().catch(() => {})).then(() => {}) // already answered (408)
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length) headers['set-cookie'] = cookies
  // A body not received in full was left (partly) unread: the connection cannot carry another
  // request, and reading the rest only to discard it would let a client keep it busy for as long
  // as it likes. Close it after the answer (see LINGER_MS).
  if (!req.complete) {
    headers.connection = 'close'
    lingerAfterAnswer(req)
  } else if (!headers.connection) headers['keep-alive'] = KEEP_ALIVE_ADVERTISED // replaces Node's own
  if (response.statusText) res.writeHead(response.status, response.statusText, headers)
  else res.writeHead(response.status, headers) // Node fills in the standard reason phrase
  if (!response.body) return Promise.resolve(void res.end())
  return pump(res, response.body as unknown as AsyncIterable<Uint8Array>, answers)
}

/**
 * Copies a body to the connection. It waits for the client before writing the next chunk, not
 * after writing one: a body of one chunk (a string) is then read to its end at once, and its
 * string freed, while the bytes wait for the client (counted in `answers`, which closes the
 * connection if the client takes none of them for requestTimeout, or when too many wait).
 */
async function pump(res: ServerResponse, body: AsyncIterable<Uint8Array>, answers: UnsentAnswers): Promise<void> {
  for await (const chunk of body) {
    // Asked now, not when the last chunk was written: the drain may have come meanwhile.
    if (res.writableNeedDrain) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done)
          res.off('close', done)
          resolve()
        }
        res.once('drain', done)
        res.once('close', done)
      })
    }
    if (res.destroyed) break // client gone (or cut off): leaving the loop cancels the body stream
    answers.write(res, chunk)
  }
  res.end()
}

/**
 * Serves an AgbLocal over node:http (127.0.0.1, ephemeral port by default), streaming request
 * and response bodies. WebSocket upgrades (session `wsUrl`) go to `local.handleUpgrade`. A
 * handler rejecting with an injected `drop` fault destroys the connection without an answer.
 *
 * Hardened for hostile neighbours (sandboxed code shares the host network): a `Host` header
 * outside `local.servePolicy.allowedHosts` and the loopback names gets 421 (DNS rebinding);
 * request bodies are never buffered, only read when a route that passed authentication reads
 * them; at most `maxConnections` connections are served (more get 503); headers must arrive
 * within `requestTimeout` and a body may not pause longer (else 408 and the connection closes).
 * Answers are bounded too: a connection whose client takes none of its answer for
 * `requestTimeout` is closed, and when more than `maxUnsentBytes` (default 256 MiB) of answers
 * wait for their clients over all connections, connections are closed (the one whose client
 * has gone longest without reading first), so clients that never read cannot fill its memory.
 *
 * Calls from AGB Local's own sandboxes are refused (403 `AccessDenied`, whatever key they show,
 * WebSocket upgrades included; only the static `/local/test-page` is served) unless `allowSandboxCallers`: a connection's peer socket is
 * looked up in /proc/net/tcp(6), and a peer owned by a sandbox uid (2^30 and up, given to each
 * session when AGB Local runs as root) is a sandbox. Such connections never count against
 * `maxConnections`; each sandbox gets at most 24 awaiting their 403 (all together 256; 16 open
 * when allowed), more are reset unanswered.
 * Not root, sandboxes run as AGB Local's own user and cannot be told apart.
 * @example
 * const server = await serve(createAgbLocal(), { port: 0 })
 * console.log(server.url)
 */
export async function serve(local: AgbLocal, opts: ServeOptions = {}): Promise<Server> {
  const host = opts.host ?? '127.0.0.1'
  const policy = local.servePolicy ?? DEFAULT_POLICY
  const timeoutMs = policy.requestTimeoutMs
  const checkHost = createHostCheck(policy.allowedHosts, host)
  const answers = createUnsentAnswers(timeoutMs, policy.maxUnsentBytes ?? MAX_UNSENT_BYTES)
  const hostRefusal = (given: string | undefined) =>
    `Host ${JSON.stringify(given ?? '')} is not served: AGB Local answers loopback names (localhost, 127.0.0.1, [::1]) ` +
    'and the names in its allowedHosts option (--allowed-host); this refusal protects it from DNS rebinding'
  const server = createServer({
    keepAliveTimeout: policy.keepAliveTimeoutMs ?? KEEP_ALIVE_MS,
    headersTimeout: timeoutMs,
    // Node's requestTimeout bounds a whole upload, which would cut off large presigned PUTs on a
    // slow link: a body may instead pause at most requestTimeout between two reads (requestBody).
    requestTimeout: 0,
    // How often Node checks headersTimeout (default 30 s, far too coarse for a short timeout).
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, timeoutMs / 4)),
  }, (req, res) => {
    // A local peer's owner is looked up when it connects: its requests wait for the verdict.
    const ready = sockets.get(req.socket)?.ready
    if (ready) void ready.then(() => handle(req, res))
    else handle(req, res)
  })
  function handle(req: IncomingMessage, res: ServerResponse): void {
    const abort = new AbortController()
    res.once('close', () => {
      if (!res.writableFinished) abort.abort() // client went away mid-request
    })
    const send = (response: Response) => writeResponse(req, res, response, answers).catch(() => res.destroy())
    if (sockets.get(req.socket)?.sandbox && !isSandboxPage(req)) return void send(envelope(403, 'AccessDenied', SANDBOX_REFUSAL, { connection: 'close' }))
    if (sockets.get(req.socket)?.overCap) {
      return void send(envelope(503, 'ServiceUnavailable', `AGB Local has ${policy.maxConnections} connections open (its maxConnections): retry later`, { 'retry-after': '1', connection: 'close' }))
    }
    const authority = req.headers.host === undefined ? undefined : checkHost(req.headers.host)
    if (req.headers.host !== undefined && !authority) return void send(envelope(421, 'InvalidHost', hostRefusal(req.headers.host)))
    // HTTP/1.0 without Host: the address we listen on (a wildcard one means loopback here).
    const port = (server.address() as AddressInfo).port
    const origin = `http://${authority ?? `${/^(0\.0\.0\.0|::)$/.test(host) ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${port}`}`
    const stall = () => {
      abort.abort()
      if (!res.headersSent) {
        void send(envelope(408, 'RequestTimeout', `request body stalled: no bytes for ${timeoutMs / 1000} s (requestTimeout); the connection is closed`, { connection: 'close' }))
      } else req.socket.destroy()
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    const init: RequestInit & { duplex?: 'half' } = { method: req.method ?? 'GET', headers: toHeaders(req), signal: abort.signal }
    if (hasBody) {
      init.body = requestBody(req, timeoutMs, stall)
      init.duplex = 'half'
    }
    Promise.resolve()
      .then(() => local.handler(new Request(new URL(req.url ?? '/', origin), init)))
      .then((response) => writeResponse(req, res, response, answers))
      .catch((e: unknown) => {
        if (isDroppedConnection(e)) return void req.socket.destroy() // injected 'drop' fault
        if (!res.headersSent) {
          if (!req.complete) lingerAfterAnswer(req)
          res.writeHead(500, { 'content-type': 'application/json', ...(req.complete ? { 'keep-alive': KEEP_ALIVE_ADVERTISED } : { connection: 'close' }) })
          res.end(JSON.stringify({ success: false, code: 'InternalError', message: String((e as Error)?.message ?? e) }))
        } else res.destroy()
      })
  }

  // Connection cap. Node's own maxConnections drops sockets without a word; up to the hard cap
  // an extra connection instead gets a 503 the client can read (and retry after).
  let open = 0
  /** Connections over the cap waiting for their 503. */
  let over = 0
  // Not Node's own server.maxConnections: it would count sandbox connections (which are not
  // the user's and are shed on their own) and drop the user's connections in a sandbox's flood.
  // Sandboxed code shares the host network and the CLI's development key is public: a
  // connection is told apart by the host user that made it (its uid in /proc/net/tcp), which
  // is a sandbox's own when AGB Local runs as root. Sandbox connections are counted per uid, not
  // in `open`: a session flooding the port cannot take the user's connections.
  const perSandbox = new Map<number, number>()
  let refusing = 0
  const sandboxSlot = (uid: number, socket: Socket, max: number, refused: boolean): boolean => {
    const n = perSandbox.get(uid) ?? 0
    if (n >= max || (refused && refusing >= REFUSED_SANDBOX_TOTAL)) return false
    perSandbox.set(uid, n + 1)
    if (refused) refusing++
    socket.once('close', () => {
      if (refused) refusing--
      const left = (perSandbox.get(uid) ?? 1) - 1
      if (left > 0) perSandbox.set(uid, left)
      else perSandbox.delete(uid)
    })
    return true
  }
  /** Decides what a connection gets once its peer's owner is known. */
  const admit = (socket: Socket, peer: PeerOwner): void => {
    const state = sockets.get(socket) ?? { overCap: false }
    sockets.set(socket, state)
    // Closed before the verdict: nothing to count ('close' has fired already).
    if (socket.destroyed) return void (state.sandbox = true)
    // A local peer that closed before we looked: its request (already sent) is never run.
    if (peer.kind === 'gone') {
      state.sandbox = true
      return void socket.destroy()
    }
    if (peer.kind === 'local' && isSandboxUid(peer.uid)) {
      const allowed = policy.allowSandboxCallers === true
      const slot = sandboxSlot(peer.uid, socket, allowed ? ALLOWED_PER_SANDBOX : REFUSED_PER_SANDBOX, !allowed)
      if (allowed && slot) return
      if (allowed) state.overCap = true
      else state.sandbox = true
      // A reset leaves no TIME_WAIT entry behind to swell /proc/net/tcp.
      if (!allowed && !slot) return void socket.resetAndDestroy()
      // Answered at its first request (403, or 503 over its share); a silent one goes soon.
      setTimeout(() => socket.destroy(), Math.min(LINGER_MS, timeoutMs)).unref()
      return
    }
    state.overCap = open >= policy.maxConnections
    if (state.overCap) {
      if (open + over >= policy.maxConnections * HARD_CAP_FACTOR) return void socket.destroy()
      over++
      socket.once('close', () => over--)
      // Answered at its first request (503); a silent one goes soon.
      setTimeout(() => socket.destroy(), Math.min(LINGER_MS, timeoutMs)).unref()
      return
    }
    open++
    socket.once('close', () => open--)
  }
  server.prependListener('connection', (socket: Socket) => {
    const peer = peerOwner(socket)
    if (!(peer instanceof Promise)) return admit(socket, peer)
    sockets.set(socket, { overCap: false, ready: peer.then((p) => admit(socket, p)) })
  })

  // Node destroys an idle keep-alive connection in the timers phase, before the poll phase reads
  // a request that may already wait in the kernel: after the event loop was busy (e.g. spawning
  // many sandbox processes) past the timeout, that resets (ECONNRESET) a connection the client
  // has just reused. Handling 'timeout' ourselves, the close waits one turn of the loop and is
  // skipped when bytes arrived meanwhile.
  server.on('timeout', (socket: Socket) => {
    const seen = socket.bytesRead
    setImmediate(() => {
      if (socket.bytesRead === seen) socket.destroy()
    })
  })

  // Upgraded connections leave the HTTP server's bookkeeping: close() drops them itself.
  const upgraded = new Set<Duplex>()
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket)
    socket.once('close', () => upgraded.delete(socket))
    const ready = sockets.get(req.socket)?.ready
    if (ready) void ready.then(() => upgrade(req, socket, head))
    else upgrade(req, socket, head)
  })
  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (sockets.get(req.socket)?.sandbox) return refuseUpgrade(socket, 403, 'AccessDenied', SANDBOX_REFUSAL)
    if (sockets.get(req.socket)?.overCap) {
      return refuseUpgrade(socket, 503, 'ServiceUnavailable', `AGB Local has ${policy.maxConnections} connections open (its maxConnections): retry later`, 'retry-after: 1\r\n')
    }
    if (!checkHost(req.headers.host)) return refuseUpgrade(socket, 421, 'InvalidHost', hostRefusal(req.headers.host))
    if (local.handleUpgrade) return local.handleUpgrade(req, socket, head)
    socket.end('HTTP/1.1 501 Not Implemented\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const shownHost = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        answers.stop()
        server.close(() => resolve())
        server.closeAllConnections()
        for (const socket of upgraded) socket.destroy()
      }),
  }
}

function toHeaders(req: IncomingMessage): Headers {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
  }
  return headers
}
