import { randomUUID } from 'node:crypto'
import type { LocalConfig } from './config.ts'
import type { FaultStore } from './faults/createFaults.ts'
import { faultResponse } from './faults/faultResponse.ts'
import { checkBearer } from './http/checkBearer.ts'
import { CORS_HEADERS, fail } from './http/envelope.ts'
import { readBody, TOO_LARGE } from './http/readBody.ts'
import type { Route, RouteContext } from './routes/Route.ts'
import { BadRequest } from './routes/Route.ts'
import { matchRoute } from './routes/routes.ts'
import type { SessionStore } from './sessions/createSessionStore.ts'
import type { RecordedRequest } from './types.ts'

/** What the handler works on. */
export interface HandlerDeps {
  config: LocalConfig
  store: SessionStore
  /** Appended to for every request; trimmed to the newest {@link MAX_RECORDED}. */
  requests: RecordedRequest[]
  faults: FaultStore
}

const MAX_RECORDED = 1000
const EMPTY = new Uint8Array(0)
const LINK_CALL = /^\/link\/[^/]+\/callTool$/

function withCors(res: Response): Response {
  for (const [k, v] of Object.entries(CORS_HEADERS)) res.headers.set(k, v)
  return res
}

function record(deps: HandlerDeps, req: Request, body: string | Uint8Array): void {
  const limit = deps.config.recordBodyLimit
  let text: string
  if (typeof body === 'string') text = body
  else if (body.length <= limit) text = new TextDecoder().decode(body)
  else text = `${new TextDecoder().decode(body.subarray(0, limit))}…[truncated ${body.length - limit} bytes]`
  const { requests } = deps
  requests.push({ method: req.method, url: req.url, headers: Object.fromEntries(req.headers), body: text })
  if (requests.length > MAX_RECORDED) requests.splice(0, requests.length - MAX_RECORDED)
}

function parseBody(text: string): Record<string, unknown> {
  if (!text.trim()) return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new BadRequest('request body is not valid JSON')
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new BadRequest('request body must be a JSON object')
  return value as Record<string, unknown>
}

/** The tool a `/mcp` or linkUrl `callTool` request calls (for tool-scoped faults). */
function toolName(path: string, bodyText: string): string | undefined {
  const key = path === '/mcp' ? 'name' : LINK_CALL.test(path) ? 'tool' : undefined
  if (!key) return undefined
  try {
    const value = (JSON.parse(bodyText) as Record<string, unknown>)[key]
    return typeof value === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

/**
 * The web-standard AGB Local handler: CORS (204 preflight without auth), request recording,
 * injected faults, authentication, body size cap (413), routing, and envelope errors instead of
 * crashes. Authentication comes before the body is touched: the bearer key (403 AccessDenied
 * envelope) for `apiKey` routes, the route's own `authorize` check (a session token) for others;
 * `rawBody` routes verify their own credentials (SigV4) before reading. Only then is the body
 * read, stopping at `maxBodyBytes`, so an unauthenticated sender cannot make AGB Local hold its
 * bytes. (Faults scoped to a tool read the body first to learn the tool: a test set-up only.)
 */
export function createHandler(deps: HandlerDeps): (req: Request) => Promise<Response> {
  const { config, store, faults } = deps

  /** Reads and records the body once; a 413 response when it is over the cap. */
  function bodyLoader(req: Request, requestId: string, match: ReturnType<typeof matchRoute>) {
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    let loaded: Promise<Uint8Array | Response> | undefined
    const load = () => (loaded ??= (async () => {
      if (match.route?.rawBody) {
        record(deps, req, '[streamed body, not recorded]')
        return EMPTY
      }
      if (!hasBody) {
        record(deps, req, '')
        return EMPTY
      }
      const read = await readBody(req, config.maxBodyBytes)
      if (read !== TOO_LARGE) {
        record(deps, req, read)
        return read
      }
      record(deps, req, `[body over ${config.maxBodyBytes} bytes, not read]`)
      // The unread rest of the body would be parsed as the next request on a kept-alive
      // connection: ask the client to close it.
      const tooLarge = withCors(fail(requestId, 413, 'RequestEntityTooLarge', `request body exceeds the limit of ${config.maxBodyBytes} bytes`))
      tooLarge.headers.set('connection', 'close')
      return tooLarge
    })())
    /** Records a request answered without reading its body. */
    const refused = () => {
      if (!loaded) record(deps, req, hasBody && !match.route?.rawBody ? '[body not read: request refused]' : '')
      loaded ??= Promise.resolve(EMPTY)
    }
    return { load, refused }
  }

  async function answer(req: Request, url: URL, requestId: string, match: ReturnType<typeof matchRoute>, body: ReturnType<typeof bodyLoader>): Promise<Response> {
    const route: Route | undefined = match.route
    const needsKey = route ? route.auth === 'apiKey' : !/^\/(link|ws|resource)\//.test(url.pathname)
    if (needsKey && !checkBearer(req.headers.get('authorization'), config.apiKey)) {
      body.refused()
      return withCors(fail(requestId, 403, 'AccessDenied', 'access denied'))
    }
    if (!match.route) {
      body.refused()
      const status = match.pathExists ? 405 : 404
      return withCors(fail(requestId, status, 'InvalidAction.NotFound', `Specified api is not found: ${req.method} ${url.pathname}`))
    }
    const denied = match.route.authorize?.({ req, url, requestId, config, store, params: match.params })
    if (denied) {
      body.refused()
      return withCors(denied)
    }
    const bodyBytes = await body.load()
    if (bodyBytes instanceof Response) return bodyBytes
    const bodyText = bodyBytes.length ? new TextDecoder().decode(bodyBytes) : ''
    let parsed: Record<string, unknown> | undefined
    const ctx: RouteContext = {
      req, url, requestId, config, store, bodyText, bodyBytes, params: match.params,
      body: () => (parsed ??= parseBody(bodyText)),
    }
    try {
      return withCors(await match.route.run(ctx))
    } catch (e) {
      if (e instanceof BadRequest) return withCors(fail(requestId, 400, 'InvalidParameter', e.message))
      config.log(`AGB Local: internal error on ${req.method} ${url.pathname}: ${(e as Error).stack ?? e}`)
      return withCors(fail(requestId, 500, 'InternalError', 'internal error'))
    }
  }

  return async (req) => {
    const requestId = randomUUID().toUpperCase()
    const url = new URL(req.url)
    if (req.method === 'OPTIONS') {
      record(deps, req, '')
      return withCors(new Response(null, { status: 204, headers: { 'x-request-id': requestId } }))
    }
    const match = matchRoute(req.method, url.pathname)
    const body = bodyLoader(req, requestId, match)
    let tool: string | undefined
    if (faults.wantsTool()) {
      const bytes = await body.load()
      if (bytes instanceof Response) return bytes
      tool = toolName(url.pathname, bytes.length ? new TextDecoder().decode(bytes) : '')
    }
    const run = () => answer(req, url, requestId, match, body)
    const fault = faults.take({ path: url.pathname, ...(faults.wantsTool() ? { tool } : {}) })
    if (!fault) return run()
    // A faulted request is read and recorded as it arrives, before the fault may leave it
    // unanswered (faults exist only in test set-ups).
    const bytes = await body.load()
    if (bytes instanceof Response) return bytes
    return withCors(await faultResponse(fault, { requestId, signal: req.signal, isLink: LINK_CALL.test(url.pathname), faults, real: run }))
  }
}
