import { randomUUID } from 'node:crypto'
import type { LocalConfig } from './config.ts'
import { checkBearer } from './http/checkBearer.ts'
import { CORS_HEADERS, fail } from './http/envelope.ts'
import type { RouteContext } from './routes/Route.ts'
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
}

const MAX_RECORDED = 1000

function withCors(res: Response): Response {
  for (const [k, v] of Object.entries(CORS_HEADERS)) res.headers.set(k, v)
  return res
}

function record(requests: RecordedRequest[], req: Request, body: string): void {
  requests.push({ method: req.method, url: req.url, headers: Object.fromEntries(req.headers), body })
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

/**
 * The web-standard AGB Local handler: CORS (204 preflight without auth), request recording,
 * bearer-key check (403 AccessDenied envelope), routing, and envelope errors instead of crashes.
 */
export function createHandler(deps: HandlerDeps): (req: Request) => Promise<Response> {
  const { config, store, requests } = deps
  return async (req) => {
    const requestId = randomUUID().toUpperCase()
    const url = new URL(req.url)
    if (req.method === 'OPTIONS') {
      record(requests, req, '')
      return withCors(new Response(null, { status: 204, headers: { 'x-request-id': requestId } }))
    }
    const bodyText = req.method === 'GET' || req.method === 'HEAD' ? '' : await req.text()
    record(requests, req, bodyText)
    const match = matchRoute(req.method, url.pathname)
    const needsKey = match.route ? match.route.auth === 'apiKey' : !/^\/(link|ws)\//.test(url.pathname)
    if (needsKey && !checkBearer(req.headers.get('authorization'), config.apiKey)) {
      return withCors(fail(requestId, 403, 'AccessDenied', 'access denied'))
    }
    if (!match.route) {
      const status = match.pathExists ? 405 : 404
      return withCors(fail(requestId, status, 'InvalidAction.NotFound', `Specified api is not found: ${req.method} ${url.pathname}`))
    }
    let parsed: Record<string, unknown> | undefined
    const ctx: RouteContext = {
      req, url, requestId, config, store, bodyText, params: match.params,
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
}
