import { json } from '../http/envelope.ts'
import { sameSecret } from '../http/checkBearer.ts'
import { parseToolArgs } from './parseToolArgs.ts'
import type { Route } from './Route.ts'
import { runToolCall } from './runToolCall.ts'

/**
 * `POST {linkUrl}/callTool` (§8): the session host route. Authenticated by the session token
 * in `X-Access-Token` (never the API key); answers `{data: "<JSON {result: CallToolResult}>"}`.
 */
export const linkCallToolRoute: Route = {
  method: 'POST',
  path: /^\/link\/([^/]+)\/callTool$/,
  auth: 'none',
  async run(ctx) {
    const session = ctx.store.live(decodeURIComponent(ctx.params[0] ?? ''))
    if (!session) return json({ success: false, code: 'InvalidSession.NotFound', message: 'Session not found' }, 404, ctx.requestId)
    if (!sameSecret(ctx.req.headers.get('x-access-token'), session.token)) {
      return json({ success: false, code: 'AccessDenied', message: 'invalid access token' }, 401, ctx.requestId)
    }
    const body = ctx.body()
    const tool = typeof body.tool === 'string' ? body.tool : ''
    const result = await runToolCall(ctx, session, tool, parseToolArgs(body.args))
    return json({ data: JSON.stringify({ result }) }, 200, ctx.requestId)
  },
}
