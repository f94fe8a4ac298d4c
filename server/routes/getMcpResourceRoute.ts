import { ok } from '../http/envelope.ts'
import type { Route } from './Route.ts'
import { bodySessionId } from './Route.ts'
import { sessionNotFound } from './sessionNotFound.ts'
import { sessionUrls } from './sessionUrls.ts'

/**
 * `POST /mcp/getMcpResource` `{sessionId}` (§3.9): the seed-era session info. AGB Local has no
 * remote desktop, so `authCode`, `connectionProperties` and `ticket` are empty strings.
 */
export const getMcpResourceRoute: Route = {
  method: 'POST',
  path: '/mcp/getMcpResource',
  auth: 'apiKey',
  run(ctx) {
    const session = ctx.store.live(bodySessionId(ctx))
    if (!session) return sessionNotFound(ctx.requestId, 'Session not found')
    return ok(ctx.requestId, {
      sessionId: session.id,
      resourceUrl: sessionUrls(ctx.url, session).resourceUrl,
      desktopInfo: {
        appId: session.appInstanceId,
        authCode: '',
        connectionProperties: '',
        resourceId: session.resourceId,
        resourceType: 'AgbLocalSandbox',
        ticket: '',
      },
    })
  },
}
