import { fail, ok } from '../http/envelope.ts'
import type { Route, RouteContext } from './Route.ts'
import { sessionNotFound } from './sessionNotFound.ts'

/** The port range the service forwards (PROTOCOL §3.10). */
export const LINK_PORTS = { min: 30100, max: 30199 } as const

function getLink(ctx: RouteContext): Response {
  const q = ctx.url.searchParams
  const session = ctx.store.live(q.get('sessionId') ?? '')
  if (!session) return sessionNotFound(ctx.requestId)
  const port = Number(q.get('port') ?? NaN)
  if (!Number.isInteger(port) || port < LINK_PORTS.min || port > LINK_PORTS.max) {
    return fail(ctx.requestId, 400, 'InvalidParameter', `port must be an integer in ${LINK_PORTS.min}-${LINK_PORTS.max}`)
  }
  if (!ctx.config.network) {
    // Never a URL where nothing can answer: the sandbox's ports live in its own network namespace.
    return fail(ctx.requestId, 400, 'InvalidRequest', `getLink: this AGB Local runs sandboxes without network (--no-network), so port ${port} inside session ${session.id} cannot be reached from outside; start it without --no-network`)
  }
  ctx.store.touch(session)
  // Sandboxes share the host network by default, so a server listening on the port inside the
  // sandbox is reachable on the host AGB Local was reached at.
  const scheme = /^wss?$/i.test(q.get('protocolType') ?? '') ? 'ws' : 'http'
  return ok(ctx.requestId, { url: `${scheme}://${ctx.url.hostname}:${port}` })
}

/**
 * `GET /internet/getLink?sessionId=&protocolType=&port=` (§3.10) and the Python async
 * variant `GET /mcp/getLink`: `data.url` for a port in 30100–30199 (else an InvalidParameter
 * envelope failure). `protocolType` `ws`/`wss` gives a `ws://` URL, anything else `http://`.
 */
export const getLinkRoutes: Route[] = [
  { method: 'GET', path: '/internet/getLink', auth: 'apiKey', run: getLink },
  { method: 'GET', path: '/mcp/getLink', auth: 'apiKey', run: getLink },
]
