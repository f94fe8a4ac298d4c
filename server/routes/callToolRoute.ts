import { fail, ok } from '../http/envelope.ts'
import { parseToolArgs } from './parseToolArgs.ts'
import type { Route } from './Route.ts'
import { BadRequest } from './Route.ts'
import { runToolCall } from './runToolCall.ts'

/**
 * `POST /mcp?autoGenSession=false` (§4): body `{args: "<JSON>", sessionId, name}` →
 * `data: {isError, content: [{type:'text', text}]}`. Unknown or released sessions get the
 * `InvalidSession.NotFound` envelope failure over HTTP 200, as the service does.
 */
export const callToolRoute: Route = {
  method: 'POST',
  path: '/mcp',
  auth: 'apiKey',
  async run(ctx) {
    const body = ctx.body()
    const name = body.name
    if (typeof name !== 'string' || !name) throw new BadRequest('name is required')
    const args = parseToolArgs(body.args)
    const session = typeof body.sessionId === 'string' ? ctx.store.live(body.sessionId) : undefined
    if (!session) return fail(ctx.requestId, 200, 'InvalidSession.NotFound', 'Session not found', {})
    return ok(ctx.requestId, await runToolCall(ctx, session, name, args))
  },
}
