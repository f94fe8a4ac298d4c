import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { runTool } from '../_internal/runTool.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'

const ArgsSchema = v.record(v.string(), v.unknown(), 'args must be an object')

/** What {@link callTool} returns. */
export interface CallToolResult {
  /** The tool's text output (all text items joined with a newline). */
  text: string
  /** `text` parsed as JSON when it is JSON, else `undefined`. */
  json: unknown
  /** The service's request id. */
  requestId: string
}

/**
 * Calls any sandbox tool by name (`POST /mcp`), for tools this SDK does not wrap (desktop,
 * browser, custom images). Arguments are sent as the service expects (a JSON string).
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param name - Tool name, e.g. `get_screen_size`.
 * @param args - Arguments object. Default `{}`.
 * @param options - `signal`, `timeout`.
 * @returns `{ text, json, requestId }`.
 * @throws AgbError `tool_error` when the tool reports a failure; `session_not_found`, ...
 * @example
 * ```ts
 * const { json } = await callTool(client, session, 'get_screen_size')
 * ```
 */
export async function callTool(client: Client, session: SessionRef, name: string, args: Record<string, unknown> = {}, options?: RequestOptions): Promise<CallToolResult> {
  const n = validate(nonEmpty('name'), name, 'name')
  const a = validate(ArgsSchema, args, 'args')
  const { text, requestId } = await runTool(client, session, 'callTool', n, a, options)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { text, json, requestId }
}
