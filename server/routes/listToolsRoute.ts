import { fail, ok } from '../http/envelope.ts'
import { toolListJson } from '../tools/toolRegistry.ts'
import type { Route } from './Route.ts'

/**
 * `POST /mcp/listTools?imageId=` (§3.11): `data` is the JSON-encoded tool array of the image;
 * an unknown image gets `success:false`, `InvalidRequest`, `Invalid image_id`.
 */
export const listToolsRoute: Route = {
  method: 'POST',
  path: '/mcp/listTools',
  auth: 'apiKey',
  run(ctx) {
    const imageId = ctx.url.searchParams.get('imageId') ?? ''
    if (!ctx.config.images.includes(imageId)) return fail(ctx.requestId, 400, 'InvalidRequest', 'Invalid image_id')
    return ok(ctx.requestId, toolListJson(imageId))
  },
}
