import { ok } from '../http/envelope.ts'
import type { Route } from './Route.ts'
import { sessionNotFound } from './sessionNotFound.ts'

/**
 * `POST /internet/getCdpLink?sessionId=` (§3.10): `data.url`, a Chrome DevTools WebSocket URL.
 * AGB Local runs no browser, so the URL has the service's form but nothing listens on it.
 */
export const getCdpLinkRoute: Route = {
  method: 'POST',
  path: '/internet/getCdpLink',
  auth: 'apiKey',
  run(ctx) {
    const session = ctx.store.live(ctx.url.searchParams.get('sessionId') ?? '')
    if (!session) return sessionNotFound(ctx.requestId)
    return ok(ctx.requestId, { url: `ws://${ctx.url.hostname}:9222/devtools/browser/${session.resourceId}` })
  },
}
