import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { SessionRef } from '../types.ts'
import { AgbError } from '../errors.ts'
import { api, truncate } from './request.ts'
import { sessionId } from './sessionId.ts'
import { withDeadline } from './signal.ts'

/** Tools that change nothing in the sandbox, so a failed call may be repeated. */
const READ_ONLY = new Set(['read_file', 'get_file_info', 'list_directory', 'search_files', 'read_multiple_files', 'get_metrics'])

/** What a sandbox tool returned (PROTOCOL §4.2). */
export interface ToolOutput {
  /** All text items joined with `\n` (or the first item's blob/data when there is no text). */
  text: string
  /** The tool reported a failure; `text` usually says why. */
  isError: boolean
  requestId: string
}

const ContentItemSchema = v.looseObject({
  type: v.optional(v.string()),
  text: v.optional(v.string()),
  blob: v.optional(v.string()),
  data: v.optional(v.string()),
})

const ToolDataSchema = v.looseObject({
  isError: v.optional(v.boolean()),
  content: v.optional(v.array(v.union([ContentItemSchema, v.string()]))),
})

/**
 * Calls a sandbox tool through `POST /mcp?autoGenSession=false` with the arguments
 * double-encoded as a JSON string, and decodes the MCP `CallToolResult`.
 */
export async function callTool(
  client: Client,
  session: SessionRef,
  name: string,
  args: Record<string, unknown>,
  signal: AbortSignal,
): Promise<ToolOutput> {
  const envelope = await api(
    client,
    {
      method: 'POST',
      path: '/mcp',
      query: { autoGenSession: 'false' },
      body: { args: JSON.stringify(args), sessionId: sessionId(session), name },
      idempotent: READ_ONLY.has(name),
    },
    signal,
  )
  let data = envelope.data ?? {}
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data)
    } catch {
      data = { content: [data] }
    }
  }
  const parsed = v.safeParse(ToolDataSchema, data)
  if (!parsed.success) {
    throw new AgbError('invalid_response', `${envelope.label} tool ${name}: unexpected result shape (request ${envelope.requestId || 'unknown'})`, {
      status: envelope.status,
      requestId: envelope.requestId,
    })
  }
  const items = parsed.output.content ?? []
  const texts = items.flatMap((item) => (typeof item === 'string' ? [item] : item.type === 'text' && item.text !== undefined ? [item.text] : []))
  let text = texts.join('\n')
  if (!texts.length && items.length) {
    const first = items[0]!
    text = typeof first === 'string' ? first : (first.text ?? first.blob ?? first.data ?? '')
  }
  return { text, isError: parsed.output.isError === true, requestId: envelope.requestId }
}

/** The tool's text, or a `tool_error` when the tool reported a failure. */
export function toolText(output: ToolOutput, name: string): string {
  if (!output.isError) return output.text
  throw new AgbError('tool_error', `Tool ${name} failed: ${truncate(output.text || 'no message')}${output.requestId ? ` (request ${output.requestId})` : ''}`, {
    ...(output.requestId ? { requestId: output.requestId } : {}),
  })
}

/**
 * The common shape of a tool operation: one call under the operation's deadline, its text
 * returned, a tool failure thrown as `tool_error`.
 */
export async function tool(
  client: Client,
  session: SessionRef,
  name: string,
  args: Record<string, unknown>,
  options: { signal?: AbortSignal; timeout?: number } | undefined,
): Promise<{ text: string; requestId: string }> {
  const output = await withDeadline(options, client.timeout, (signal) => callTool(client, session, name, args, signal))
  return { text: toolText(output, name), requestId: output.requestId }
}
