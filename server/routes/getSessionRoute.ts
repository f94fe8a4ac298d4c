import { ok } from '../http/envelope.ts'
import { toolListJson } from '../tools/toolRegistry.ts'
import type { Route } from './Route.ts'
import { bodySessionId } from './Route.ts'
import { sessionNotFound } from './sessionNotFound.ts'
import { sessionUrls } from './sessionUrls.ts'

/** `POST /mcp/getSession` (§3.2): full session data; released sessions are not found. */
export const getSessionRoute: Route = {
  method: 'POST',
  path: '/mcp/getSession',
  auth: 'apiKey',
  run(ctx) {
    const session = ctx.store.live(bodySessionId(ctx))
    if (!session) return sessionNotFound(ctx.requestId, 'Session not found')
    const urls = sessionUrls(ctx.url, session)
    return ok(ctx.requestId, {
      sessionId: session.id,
      appInstanceId: session.appInstanceId,
      resourceId: session.resourceId,
      resourceUrl: urls.resourceUrl,
      status: session.status,
      linkUrl: urls.linkUrl,
      wsUrl: urls.wsUrl,
      token: session.token,
      toolList: toolListJson(session.imageId),
    }, { code: 'ok' }) // the service answers getSession with a lower-case `ok` (or an empty code)
  },
}
