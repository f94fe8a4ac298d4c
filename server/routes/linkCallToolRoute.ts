import { json } from '../http/envelope.ts'
import { sameSecret } from '../http/checkBearer.ts'
import { parseToolArgs } from './parseToolArgs.ts'
import type { Route } from './Route.ts'
import { runToolCall } from './runToolCall.ts'

const notFound = (requestId: string) => json({ success: false, code: 'InvalidSession.NotFound', message: 'Session not found' }, 404, requestId)

function sessionIdOf(params: string[]): string {
  try {
    return decodeURIComponent(params[0] ?? '')
  } catch {
    return '' // malformed escapes: no such session
  }
}

/**
 * `POST {linkUrl}/callTool` (§8): the session host route. Authenticated by the session token
 * in `X-Access-Token` (never the API key); answers `{data: "<JSON {result: CallToolResult}>"}`.
 */
export const linkCallToolRoute: Route = {
  method: 'POST',
  path: /^\/link\/([^/]+)\/callTool$/,
  auth: 'none',
  // Before the body is read: a caller without the session's token cannot make AGB Local hold a body.
  authorize(ctx) {
    const session = ctx.store.live(sessionIdOf(ctx.params))
    if (!session) return notFound(ctx.requestId)
    if (!sameSecret(ctx.req.headers.get('x-access-token'), session.token)) {
      return json({ success: false, code: 'AccessDenied', message: 'invalid access token' }, 401, ctx.requestId)
    }
    return undefined
  },
  async run(ctx) {
    const session = ctx.store.live(sessionIdOf(ctx.params))
    if (!session) return notFound(ctx.requestId) // released since authorize
    const body = ctx.body()
    const tool = typeof body.tool === 'string' ? body.tool : ''
    const result = await runToolCall(ctx, session, tool, parseToolArgs(body.args))
    return json({ data: JSON.stringify({ result }) }, 200, ctx.requestId)
  },
}
