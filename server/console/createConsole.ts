import { randomUUID } from 'node:crypto'
import { imageKind } from '../browser/imageKind.ts'
import type { LocalConfig } from '../config.ts'
import type { FaultStore } from '../faults/createFaults.ts'
import { readBody, TOO_LARGE } from '../http/readBody.ts'
import type { Session } from '../sessions/Session.ts'
import type { SessionStore } from '../sessions/createSessionStore.ts'
import { toolRegistry } from '../tools/toolRegistry.ts'
import type { CallLog } from './createCallLog.ts'
import { createCallLog } from './createCallLog.ts'
import type { ConsoleAuth } from './createConsoleAuth.ts'
import { createConsoleAuth } from './createConsoleAuth.ts'
import type { ConsoleFaults } from './createConsoleFaults.ts'
import { createConsoleFaults } from './createConsoleFaults.ts'
import { consoleAsset, CONSOLE_HEADERS } from './consoleAssets.ts'
import { outputTaps } from './outputTaps.ts'
import { streamedRunWatchers } from './watchStreamedRun.ts'
import { redactText } from './redactText.ts'
import { summarizeArgs } from './summarizeArgs.ts'
import { listFiles, listProcesses, sampleMetrics, viewFile } from './sessionDetails.ts'

/** What the console observes. */
export interface ConsoleDeps {
  config: LocalConfig
  store: SessionStore
  /** The queue behind `local.faults`. */
  faults: FaultStore
}

/** The console of one AGB Local. */
export interface Console {
  /** The fault store to hand the API handler (console faults first). */
  faults: FaultStore
  /** Wraps the API handler: console paths are answered here, every other request is recorded. */
  wrap(api: (req: Request) => Promise<Response>): (req: Request) => Promise<Response>
  /** A one-time sign-in URL on `baseUrl`. */
  link(baseUrl: string): string
  /** Ends the live event streams. */
  close(): void
}

const RELEASED_KEPT_MS = 5 * 60 * 1000
const MAX_RELEASED = 50
const MAX_STREAMS = 16
const SESSIONS_POLL_MS = 250
const MAX_ACTION_BODY = 1024 * 1024
const MAX_PATH = 4096
const RUN_TIMEOUT_S = 120
/** Live output forwarded per API call at most; the call's timeline entry still shows its result. */
const MAX_LIVE_BYTES = 256 * 1024
const SESSION_API = /^\/console\/api\/sessions\/([^/]+)\/(processes|metrics|files|file|download|screenshot|run|release)$/
const FAULT_API = /^\/console\/api\/faults\/(\d+)$/

/** Is this path the console's (`/`, `/favicon.ico`, `/console`, `/console/…`)? Never an API path. */
export function isConsolePath(pathname: string): boolean {
  return pathname === '/' || pathname === '/favicon.ico' || pathname === '/console' || pathname.startsWith('/console/')
}

function jsonAnswer(body: unknown, status = 200, redact: (t: string) => string = (t) => t): Response {
  return new Response(redact(JSON.stringify(body)), { status, headers: { ...CONSOLE_HEADERS, 'content-type': 'application/json; charset=utf-8' } })
}
const problem = (status: number, message: string) => jsonAnswer({ error: message }, status)

function signInPage(): Response {
  const html = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>AGB Local console: sign in</title>' +
    '<link rel="icon" href="data:,"><link rel="stylesheet" href="/console/console.css"></head><body><main class="signin"><h1>AGB Local console</h1>' +
    '<p>You are not signed in. Open the one-time link AGB Local printed when it started (<code>Console: http://…/console/login?t=…</code>), ' +
    'or get a new one from code with <code>local.consoleLink(url)</code>. A link works once.</p></main></body></html>'
  return new Response(html, { status: 401, headers: { ...CONSOLE_HEADERS, 'content-type': 'text/html; charset=utf-8' } })
}

/** An action's JSON body, read only up to {@link MAX_ACTION_BODY} bytes. @throws TypeError, SyntaxError */
async function readJson(req: Request): Promise<Record<string, unknown>> {
  if (!/^application\/json\b/i.test(req.headers.get('content-type') ?? '')) throw new TypeError('send the action as application/json')
  const read = await readBody(req, MAX_ACTION_BODY)
  if (read === TOO_LARGE) throw new TypeError(`the action is larger than ${MAX_ACTION_BODY} bytes`)
  const text = new TextDecoder().decode(read)
  const value = text ? JSON.parse(text) : {}
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new TypeError('the action must be a JSON object')
  return value as Record<string, unknown>
}

function sandboxPath(url: URL): string {
  const path = url.searchParams.get('path') || '/home/user'
  if (path.length > MAX_PATH || path.includes('\0')) throw new TypeError('invalid path')
  return path
}

/**
 * Creates the AGB Local console: a page at `/console/` (and `/`) showing live sessions, every API
 * and tool call, each session's processes, files, resource use and browser screenshot, with
 * actions (run code or a command, release a session, switch faults). Access takes a one-time
 * sign-in link that sets an HttpOnly, SameSite=Strict cookie on `/console`; other origins are
 * refused. Everything it sends the page is redacted (API key, session tokens, signatures).
 * Observation goes through the same session store, sandbox and tools the API uses.
 */
export function createConsole(deps: ConsoleDeps): Console {
  const { config, store } = deps
  const auth: ConsoleAuth = createConsoleAuth()
  const released = new Map<string, { session: Session; at: number }>()
  const knownTokens = new Set<string>()
  const streams = new Set<() => void>()
  const outputListeners = new Set<(event: Record<string, unknown>) => void>()

  function secrets(): string[] {
    for (const s of store.all()) knownTokens.add(s.token)
    while (knownTokens.size > 2000) knownTokens.delete(knownTokens.values().next().value!)
    return [config.apiKey, ...knownTokens]
  }
  const redact = (text: string) => redactText(text, secrets())
  const log: CallLog = createCallLog(redact)
  const consoleFaults: ConsoleFaults = createConsoleFaults(deps.faults, (spec) => log.markFault(spec.kind))
  let api: ((req: Request) => Promise<Response>) | undefined
  const liveBytes = new Map<string, number>()

  /** Forwards run_code output of API calls to the open pages (registered only while one is open). */
  function tapOutput(session: Session, requestId: string, event: { type: string; chunk?: string }): void {
    if ((event.type !== 'stdout' && event.type !== 'stderr') || !event.chunk) return
    const sent = liveBytes.get(requestId) ?? 0
    if (sent >= MAX_LIVE_BYTES) return
    liveBytes.set(requestId, sent + event.chunk.length)
    while (liveBytes.size > 200) liveBytes.delete(liveBytes.keys().next().value!)
    const chunk = sent + event.chunk.length > MAX_LIVE_BYTES ? `${event.chunk.slice(0, MAX_LIVE_BYTES - sent)}\n…[live output cut: see the result when the call ends]\n` : event.chunk
    for (const listener of outputListeners) listener({ requestId, sessionId: session.id, stream: event.type, chunk })
  }

  // Runs streamed over a session WebSocket bypass the HTTP handler: the gateway reports them here.
  streamedRunWatchers.set(config, (session, { language, code }) => {
    const at = Date.now()
    const started = performance.now()
    const requestId = randomUUID().toUpperCase()
    const printed: string[] = []
    let printedSize = 0
    return (data) => {
      if (data.phase === 'event' && (data.eventType === 'stdout' || data.eventType === 'stderr') && typeof data.chunk === 'string') {
        if (printedSize < 4000) printed.push(data.chunk)
        printedSize += data.chunk.length
        tapOutput(session, requestId, { type: data.eventType, chunk: data.chunk })
        return
      }
      if (data.phase !== 'end' && data.phase !== 'error') return
      const failed = data.phase === 'error' || data.status !== 'finished'
      const error = data.phase === 'error' ? String(data.error) : typeof data.executionError === 'string' ? data.executionError : undefined
      log.add({ at, source: 'api', method: 'WS', path: `/ws/${session.id}`, tool: 'run_code', args: summarizeArgs({ code, language }), sessionId: session.id,
        durationMs: Math.round(performance.now() - started), status: 101, ok: !failed, requestId,
        ...(error ? { error: error.slice(0, 400) } : {}), output: printed.join('').slice(0, 4000) })
    }
  })

  store.onRelease((session) => {
    knownTokens.add(session.token)
    released.set(session.id, { session, at: Date.now() })
    for (const id of [...released.keys()].slice(0, Math.max(0, released.size - MAX_RELEASED))) released.delete(id)
  })

  function sessionView(s: Session, releasedAt?: number) {
    return {
      id: s.id, imageId: s.imageId, labels: s.labels, status: s.status, createdAt: s.createdAt, lastActivity: s.lastActivity,
      idleReleaseAt: s.lastActivity + s.idleTimeoutMs, busy: s.activeCalls > 0, browser: imageKind(s.imageId) === 'browser',
      ...(releasedAt ? { releasedAt } : {}),
    }
  }
  function sessions() {
    const now = Date.now()
    for (const [id, r] of released) if (r.at < now - RELEASED_KEPT_MS) released.delete(id)
    const live = store.all().filter((s) => s.status === 'RUNNING').sort((a, b) => a.createdAt - b.createdAt).map((s) => sessionView(s))
    const gone = [...released.values()].sort((a, b) => b.at - a.at).map((r) => sessionView(r.session, r.at))
    return { live, released: gone }
  }
  function serverView() {
    return { ...log.stats(), queuedFaults: deps.faults.pending(), consoleFaults: consoleFaults.list(), now: Date.now() }
  }
  const snapshot = () => ({ sessions: sessions(), calls: log.entries().slice(-200), server: serverView() })

  function events(): Response {
    if (streams.size >= MAX_STREAMS) return problem(503, `${MAX_STREAMS} console pages are open already: close one`)
    const encoder = new TextEncoder()
    let stop = () => {}
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const send = (event: string, data: unknown) => {
          try {
            controller.enqueue(encoder.encode(`event: ${event}\ndata: ${redact(JSON.stringify(data))}\n\n`))
          } catch {
            stop()
          }
        }
        send('hello', snapshot())
        let lastSessions = ''
        const unsubscribe = log.subscribe((entry) => send('call', entry))
        const onOutput = (event: Record<string, unknown>) => send('output', event)
        outputListeners.add(onOutput)
        const poll = setInterval(() => {
          const now = JSON.stringify(sessions())
          if (now !== lastSessions) send('sessions', JSON.parse(now))
          lastSessions = now
        }, SESSIONS_POLL_MS)
        const tick = setInterval(() => send('server', serverView()), 1000)
        // A stream nobody cancels (an injected-fetch reader that stopped) must not keep Node alive.
        poll.unref()
        tick.unref()
        stop = () => {
          clearInterval(poll)
          clearInterval(tick)
          unsubscribe()
          outputListeners.delete(onOutput)
          streams.delete(stop)
          if (!streams.size) outputTaps.delete(config)
          try {
            controller.close()
          } catch {}
        }
        streams.add(stop)
        outputTaps.set(config, tapOutput)
      },
      cancel: () => stop(),
    })
    return new Response(body, { headers: { ...CONSOLE_HEADERS, 'content-type': 'text/event-stream; charset=utf-8' } })
  }

  /** Runs code or a command from the console, streaming run_code output to the open pages. */
  async function run(session: Session, action: Record<string, unknown>): Promise<Response> {
    const command = typeof action.command === 'string' ? action.command : undefined
    const code = typeof action.code === 'string' ? action.code : undefined
    if (command === undefined && code === undefined) return problem(400, 'give code (with a language) or a command')
    const name = command !== undefined ? 'shell' : 'run_code'
    const args = command !== undefined ? { command, timeout_ms: RUN_TIMEOUT_S * 1000 } : { code, language: String(action.language ?? 'python'), timeout_s: RUN_TIMEOUT_S }
    const runId = randomUUID()
    const requestId = randomUUID().toUpperCase()
    const at = Date.now()
    const started = performance.now()
    const onEvent = (event: { type: string; chunk?: string }) => {
      if (event.type !== 'stdout' && event.type !== 'stderr') return
      for (const listener of outputListeners) listener({ runId, sessionId: session.id, stream: event.type, chunk: event.chunk })
    }
    // As runToolCall does for API calls: the session is busy (never idle-released mid-run) and touched.
    session.activeCalls++
    store.touch(session)
    let result
    try {
      result = await toolRegistry.get(name)!.run(args, { config, session, requestId, onEvent })
    } catch (e) {
      result = { isError: true, content: [{ type: 'text' as const, text: `Error: ${(e as Error)?.message ?? e}` }] }
    } finally {
      session.activeCalls--
      store.touch(session)
    }
    const text = result.content.map((c) => c.text).join('\n')
    log.add({ at, source: 'console', method: 'CONSOLE', path: `/console/run`, tool: name, args: summarizeArgs(args), sessionId: session.id,
      durationMs: Math.round(performance.now() - started), status: 200, ok: !result.isError, requestId,
      ...(result.isError ? { error: text.slice(0, 400) } : { output: text.slice(0, 4000) }) })
    return jsonAnswer({ runId, isError: result.isError, text }, 200, redact)
  }

  /** Releases a session through the API itself (so it is recorded like any release). */
  async function release(session: Session): Promise<Response> {
    const req = new Request('http://agb.local/mcp/releaseSession', {
      method: 'POST', headers: { authorization: `Bearer ${config.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: session.id }),
    })
    const res = await log.asConsole(() => api!(req))
    const doc = (await res.json().catch(() => ({}))) as { success?: boolean; message?: string }
    return doc.success ? jsonAnswer({ released: session.id }) : problem(502, `release failed: ${doc.message ?? res.status}`)
  }

  async function sessionAction(req: Request, url: URL, id: string, what: string): Promise<Response> {
    const post = what === 'run' || what === 'release'
    if ((req.method === 'POST') !== post) return problem(405, `${req.method} is not allowed here`)
    const session = store.live(id)
    if (!session) return problem(404, `no live session ${id}: it was released or never existed`)
    switch (what) {
      case 'processes': return jsonAnswer({ processes: await listProcesses(session) }, 200, redact)
      case 'metrics': return jsonAnswer(await sampleMetrics(config, session))
      case 'files': {
        const listed = await listFiles(session, sandboxPath(url))
        return listed ? jsonAnswer(listed, 200, redact) : problem(400, `${sandboxPath(url)} is not a directory`)
      }
      case 'file': return jsonAnswer(await viewFile(session, sandboxPath(url)), 200, redact)
      case 'download': {
        const path = sandboxPath(url)
        const { size, stream } = await session.sandbox.fs.openRead(path)
        const name = (path.split('/').pop() || 'file').replace(/[^\w.-]+/g, '_')
        return new Response(stream as unknown as BodyInit, { headers: { ...CONSOLE_HEADERS, 'content-type': 'application/octet-stream',
          'content-length': String(size), 'content-disposition': `attachment; filename="${name}"` } })
      }
      case 'screenshot': {
        if (imageKind(session.imageId) !== 'browser') return problem(400, 'not a browser session')
        const shot = await toolRegistry.get('screenshot')!.run({ format: 'png' }, { config, session, requestId: randomUUID().toUpperCase() })
        const text = shot.content[0]?.text ?? ''
        return shot.isError ? problem(409, text.replace(/^Error: /, '')) : jsonAnswer(JSON.parse(text))
      }
      case 'run': return run(session, await readJson(req))
      default: return release(session)
    }
  }

  async function faultAction(req: Request, url: URL): Promise<Response> {
    if (req.method !== 'POST') return jsonAnswer({ faults: consoleFaults.list() })
    const body = await readJson(req)
    const id = FAULT_API.exec(url.pathname)?.[1]
    if (id === undefined) {
      const fault = consoleFaults.add({ kind: body.kind as never, route: body.route as string, tool: body.tool as string, status: body.status as number, message: body.message as string })
      return jsonAnswer({ fault }, 201, redact)
    }
    const done = body.remove === true ? consoleFaults.remove(Number(id)) : consoleFaults.set(Number(id), body.on === true)
    return done ? jsonAnswer({ faults: consoleFaults.list() }, 200, redact) : problem(404, `no console fault ${id}`)
  }

  async function answer(req: Request, url: URL): Promise<Response> {
    // No CORS here (unlike the API): a preflight is refused, so other origins cannot send actions.
    if (req.method === 'OPTIONS') return problem(403, 'the console answers its own page only')
    const refusal = auth.originRefusal(req, url)
    if (refusal) return problem(403, refusal)
    const path = url.pathname
    if (req.method === 'GET' && path === '/console/login') {
      const cookie = auth.signIn(url.searchParams.get('t'))
      if (!cookie) return problem(403, 'this sign-in link was used already, expired or is wrong: ask AGB Local for a new one')
      return new Response(null, { status: 303, headers: { ...CONSOLE_HEADERS, location: '/console/', 'set-cookie': cookie } })
    }
    if (path === '/favicon.ico') return new Response(null, { status: 204, headers: CONSOLE_HEADERS }) // browsers ask for it on every page
    if (req.method === 'GET' && (path === '/' || path === '/console')) return new Response(null, { status: 302, headers: { ...CONSOLE_HEADERS, location: '/console/' } })
    const asset = req.method === 'GET' && /^\/console\/console\.(css|js)$/.test(path) ? consoleAsset(path.slice('/console/'.length)) : undefined
    if (asset) return asset // the page's code and style: nothing secret
    if (!auth.signedIn(req)) return path === '/console/' && req.method === 'GET' ? signInPage() : problem(401, 'sign in first: open the link AGB Local printed')
    if (path === '/console/' && req.method === 'GET') return consoleAsset('console.html')!
    try {
      if (path === '/console/api/events' && req.method === 'GET') return events()
      if (path === '/console/api/state' && req.method === 'GET') return jsonAnswer(snapshot(), 200, redact)
      if (path === '/console/api/faults' || FAULT_API.test(path)) return await faultAction(req, url)
      const m = SESSION_API.exec(path)
      if (m) return await sessionAction(req, url, decodeURIComponent(m[1]!), m[2]!)
    } catch (e) {
      const err = e as Error & { code?: string }
      if (err.code === 'ENOENT') return problem(404, redact(err.message))
      if (e instanceof TypeError || e instanceof SyntaxError || err.code) return problem(400, redact(err.message))
      config.log(`AGB Local console: internal error on ${req.method} ${path}: ${err?.stack ?? e}`)
      return problem(500, 'internal error (see the AGB Local log)')
    }
    return problem(404, `no console page ${path}`)
  }

  return {
    faults: consoleFaults.store,
    wrap(inner) {
      const recorded = log.wrap(inner)
      api = recorded
      return (req) => {
        const url = new URL(req.url)
        return isConsolePath(url.pathname) ? answer(req, url) : recorded(req)
      }
    },
    link: (baseUrl) => auth.link(baseUrl),
    close() {
      for (const stop of [...streams]) stop()
    },
  }
}
