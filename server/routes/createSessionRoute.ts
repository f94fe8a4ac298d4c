import { fail, ok } from '../http/envelope.ts'
import { mountContexts } from '../storage/mountContexts.ts'
import { toolListJson } from '../tools/toolRegistry.ts'
import type { Route, RouteContext } from './Route.ts'
import { parseLabels } from './parseLabels.ts'
import { sessionUrls } from './sessionUrls.ts'

async function createSession(ctx: RouteContext): Promise<Response> {
  const imageId = ctx.url.searchParams.get('imageId')
  const body = ctx.body()
  if (!imageId) return fail(ctx.requestId, 400, 'InvalidParameter', 'imageId is required')
  // Soft failure as the service reports it: transport and envelope OK, data.success false.
  if (!ctx.config.images.includes(imageId)) return ok(ctx.requestId, { success: false, errMsg: `Invalid image_id: ${imageId}` })
  const refused = await ctx.store.refusal() // the sandbox failed its start-up probe: say why
  if (refused) return ok(ctx.requestId, { success: false, errMsg: refused })
  const timeout = Number(body.timeout)
  const session = await ctx.store.create({
    imageId,
    labels: parseLabels(body.labels),
    ...(Number.isFinite(timeout) && timeout > 0 ? { idleTimeoutMs: timeout * 1000 } : {}),
    ...(typeof body.mcpPolicyId === 'string' ? { mcpPolicyId: body.mcpPolicyId } : {}),
    ...(Array.isArray(body.persistenceDataList) ? { persistenceDataList: body.persistenceDataList } : {}),
  })
  if (!session) return ok(ctx.requestId, { success: false, errMsg: `quota exceeded: at most ${ctx.config.maxSessions} concurrent sessions` })
  await mountContexts(ctx, session) // persistenceDataList: download tasks GetContextInfo reports
  const urls = sessionUrls(ctx.url, session)
  return ok(ctx.requestId, {
    sessionId: session.id,
    resourceUrl: urls.resourceUrl,
    appInstanceId: session.appInstanceId,
    resourceId: session.resourceId,
    success: true,
    linkUrl: urls.linkUrl,
    wsUrl: urls.wsUrl,
    token: session.token,
    toolList: toolListJson(imageId),
  })
}

/** `POST /mcp/createSession?imageId=…` (PROTOCOL §3.1). */
export const createSessionRoute: Route = { method: 'POST', path: '/mcp/createSession', auth: 'apiKey', run: createSession }
