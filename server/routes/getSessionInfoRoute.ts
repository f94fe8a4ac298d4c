import { ok } from '../http/envelope.ts'
import type { Route } from './Route.ts'
import { bodySessionId } from './Route.ts'
import { sessionNotFound } from './sessionNotFound.ts'

/**
 * `POST /mcp/getSessionInfo` (§3.3): RUNNING, then DELETING/FINISH for a while after release,
 * then not found. Deliberately does not reset the idle timer.
 */
export const getSessionInfoRoute: Route = {
  method: 'POST',
  path: '/mcp/getSessionInfo',
  auth: 'apiKey',
  run(ctx) {
    const session = ctx.store.get(bodySessionId(ctx))
    if (!session) return sessionNotFound(ctx.requestId)
    return ok(ctx.requestId, { status: session.status }, { code: '' })
  },
}
