import type { LocalConfig } from '../config.ts'
import type { SessionStore } from '../sessions/createSessionStore.ts'

/** Thrown by routes for malformed input; answered as a 400 InvalidParameter envelope. */
export class BadRequest extends Error {
  override readonly name = 'BadRequest'
}

/** Per-request data handed to a route. */
export interface RouteContext {
  req: Request
  url: URL
  requestId: string
  config: LocalConfig
  store: SessionStore
  /** Raw body text (empty for GET and for `rawBody` routes). */
  bodyText: string
  /** The body bytes as received (empty for GET and for `rawBody` routes). */
  bodyBytes: Uint8Array
  /** Regex groups of the matched path (e.g. the session id of `/link/<id>/callTool`). */
  params: string[]
  /** The body as a JSON object (`{}` when empty). @throws BadRequest */
  body(): Record<string, unknown>
}

/** What a route's {@link Route.authorize} sees: the request before its body is read. */
export type AuthorizeContext = Pick<RouteContext, 'req' | 'url' | 'requestId' | 'config' | 'store' | 'params'>

/**
 * One endpoint. `auth: 'apiKey'` routes are rejected before `run` without the bearer key. A
 * route with `auth: 'none'` that takes a body must check its own credentials before the body
 * is read: in `authorize`, or (a `rawBody` route) in `run` before touching `ctx.req.body`.
 */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'HEAD' | 'DELETE'
  path: string | RegExp
  auth: 'apiKey' | 'none'
  /**
   * Runs after the API-key check and before the body is read: a refusal response (answered as
   * is, CORS headers added), or `undefined` to go on.
   */
  authorize?(ctx: AuthorizeContext): Response | undefined
  /**
   * The handler leaves the body unread (no size cap, not recorded): the route streams
   * `ctx.req.body` itself (e.g. large presigned uploads) and enforces its own limits.
   */
  rawBody?: boolean
  run(ctx: RouteContext): Response | Promise<Response>
}

/** The `sessionId` body field, required. @throws BadRequest */
export function bodySessionId(ctx: RouteContext): string {
  const id = ctx.body().sessionId
  if (typeof id !== 'string' || !id) throw new BadRequest('sessionId is required')
  return id
}
