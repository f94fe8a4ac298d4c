import { ok } from '../http/envelope.ts'
import type { Route } from './Route.ts'
import { sessionNotFound } from './sessionNotFound.ts'

/** `POST /mcp/refreshSessionIdleTime?sessionId=` (§3.7), body `{}`: resets the idle timer. */
export const refreshSessionIdleTimeRoute: Route = {
  method: 'POST',
  path: '/mcp/refreshSessionIdleTime',
  auth: 'apiKey',
  run(ctx) {
    const fromBody = ctx.body().sessionId
    const id = ctx.url.searchParams.get('sessionId') ?? (typeof fromBody === 'string' ? fromBody : '')
    const session = ctx.store.live(id)
    if (!session) return sessionNotFound(ctx.requestId)
    ctx.store.touch(session)
    return ok(ctx.requestId, undefined, { code: '' })
  },
}
