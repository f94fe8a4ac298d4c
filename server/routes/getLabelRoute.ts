import { ok } from '../http/envelope.ts'
import type { Route } from './Route.ts'
import { sessionNotFound } from './sessionNotFound.ts'

/** `GET /sdk/GetLabel?sessionId=` (§3.8): `data: {labels: "<JSON object>"}`. */
export const getLabelRoute: Route = {
  method: 'GET',
  path: '/sdk/GetLabel',
  auth: 'apiKey',
  run(ctx) {
    const session = ctx.store.live(ctx.url.searchParams.get('sessionId') ?? '')
    if (!session) return sessionNotFound(ctx.requestId)
    return ok(ctx.requestId, { labels: JSON.stringify(session.labels) })
  },
}
