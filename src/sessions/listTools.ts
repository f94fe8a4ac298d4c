import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions } from '../types.ts'
import { decode, jsonString } from '../_internal/decode.ts'
import { api } from '../_internal/transport.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'
import { requestOptions, clientOf } from '../_internal/check.ts'

// `data` is a JSON-encoded string holding the array.
const ToolsSchema = v.pipe(
  jsonString,
  v.array(
    v.pipe(
      v.looseObject({
        name: v.string(),
        description: v.optional(v.nullable(v.string())),
        inputSchema: v.optional(v.unknown()),
        server: v.optional(v.nullable(v.string())),
        tool: v.optional(v.nullable(v.string())),
      }),
      v.transform((t) => ({ name: t.name, description: t.description ?? '', inputSchema: t.inputSchema ?? {}, server: t.server ?? '', tool: t.tool ?? t.name })),
    ),
  ),
)

/** A tool an image offers: name, description, JSON input schema, MCP server. */
export type ToolInfo = v.InferOutput<typeof ToolsSchema>[number]

/**
 * Lists the tools an image offers (`POST /mcp/listTools`). Not session-scoped: pass an image
 * id, or a session created with one.
 *
 * @param client - The client.
 * @param image - An image id, or a session handle that knows its `imageId`.
 * @param options - `signal`, `timeout`.
 * @returns The tools, each `{ name, description, inputSchema, server, tool }`.
 * @throws AgbError `invalid_input` without an image id; `api_error` for an unknown image, ...
 * @example
 * ```ts
 * const names = (await listTools(client, 'agb-code-space-1')).map((t) => t.name)
 * ```
 */
export async function listTools(client: Client, image: string | { readonly imageId?: string }, options?: RequestOptions): Promise<ToolInfo[]> {
  const imageId = validate(nonEmpty('imageId'), typeof image === 'string' ? image : image?.imageId, 'imageId')
  const envelope = await withDeadline('listTools', requestOptions(options), clientOf(client).timeout, (call) => api(client, { method: 'POST', path: '/mcp/listTools', idempotent: true, query: { imageId } }, call))
  return decode(ToolsSchema, envelope.data, envelope)
}
