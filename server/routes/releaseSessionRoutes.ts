import { ok } from '../http/envelope.ts'
import type { Route, RouteContext } from './Route.ts'
import { bodySessionId } from './Route.ts'
import { sessionNotFound } from './sessionNotFound.ts'

async function release(ctx: RouteContext, wait: boolean): Promise<Response> {
  const session = ctx.store.get(bodySessionId(ctx))
  if (!session) return sessionNotFound(ctx.requestId)
  const done = ctx.store.release(session, 'released by client')
  if (wait) await done
  return ok(ctx.requestId, undefined, { code: '' })
}

/**
 * `POST /mcp/releaseSessionAsync` (§3.6, answers at once; status goes DELETING → FINISH) and the
 * seed-era synchronous `POST /mcp/releaseSession`. Releasing twice succeeds.
 */
export const releaseSessionRoutes: Route[] = [
  { method: 'POST', path: '/mcp/releaseSessionAsync', auth: 'apiKey', run: (ctx) => release(ctx, false) },
  { method: 'POST', path: '/mcp/releaseSession', auth: 'apiKey', run: (ctx) => release(ctx, true) },
]
