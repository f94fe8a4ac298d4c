import type { Client } from '../client.ts'
import type { SessionRef } from '../types.ts'
import type { Call } from './deadline.ts'
import { answerError, type Answer } from './envelope.ts'
import { parseJson } from './parseJson.ts'
import { sessionId } from './sessionId.ts'
import { api } from './transport.ts'

/** Tools that change nothing in the sandbox, so a failed call may be repeated. */
const READ_ONLY = /^(read_file|get_file_info|list_directory|search_files|read_multiple_files|get_metrics)$/

/** What a sandbox tool returned (an MCP `CallToolResult`, decoded). */
export interface ToolOutput {
  /** All text items joined with `\n` (or the first item's blob/data when there is no text). */
  text: string
  /** The tool reported a failure; `text` usually says why. */
  isError: boolean
  requestId: string
  /** The call, for messages: its operation, route and request id. */
  answer: Answer
}

/**
 * Calls a sandbox tool through `POST /mcp?autoGenSession=false` with the arguments
 * double-encoded as a JSON string, and decodes the MCP `CallToolResult` it returns (as an
 * object or a JSON string; a plain string is the tool's text).
 */
export async function invokeTool(client: Client, session: SessionRef, name: string, args: Record<string, unknown>, call: Call): Promise<ToolOutput> {
  const envelope = await api(
    client,
    { method: 'POST', path: '/mcp', query: { autoGenSession: 'false' }, body: { args: JSON.stringify(args), sessionId: sessionId(session), name }, idempotent: READ_ONLY.test(name) },
    call,
  )
  const { requestId } = envelope
  const answer: Answer = { op: call.op, route: `${envelope.route} ${name}`, requestId: requestId || 'unknown' }
  let data = envelope.data ?? {}
  // A JSON string is the result encoded once more; any other string is the tool's text.
  if (typeof data === 'string') data = parseJson(data) ?? { content: [data] }
  const { content = [], isError } = (data ?? {}) as { content?: unknown; isError?: unknown }
  const bad = (): never => {
    throw answerError('invalid_response', answer, `tool ${name} returned an unexpected result shape`)
  }
  if (typeof data !== 'object' || !Array.isArray(content)) bad()
  const items = content as (string | { type?: unknown; text?: unknown; blob?: unknown; data?: unknown })[]
  const texts: string[] = []
  for (const i of items) {
    if (typeof i === 'string') texts.push(i)
    else if (typeof i !== 'object' || !i) bad()
    else if (i.type === 'text' && typeof i.text === 'string') texts.push(i.text)
  }
  // No text item: the first item's text, blob or data (a string item would be a text).
  const first = items[0] as Exclude<(typeof items)[number], string> | undefined
  const text = texts.length ? texts.join('\n') : ([first?.text, first?.blob, first?.data].find((x) => typeof x === 'string') as string | undefined) ?? ''
  return { text, isError: isError === true, requestId, answer }
}

/**
 * The tool's text, or the failure it reported as an error: `not_found` naming `path` when
 * the tool says the file does not exist, else `tool_error`.
 */
export function toolText(output: ToolOutput, name: string, path?: string): string {
  if (!output.isError) return output.text
  const missing = path !== undefined && /ENOENT|no such file|not found|does not exist/i.test(output.text)
  throw answerError(missing ? 'not_found' : 'tool_error', output.answer, `${missing ? `${path} does not exist` : `tool ${name} failed`}: ${output.text || 'no message'}`)
}
