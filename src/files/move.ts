import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { runTool } from '../_internal/runTool.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'

/**
 * Moves or renames a file or directory in the sandbox (tool `move_file`).
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param source - Absolute sandbox path to move.
 * @param destination - Absolute sandbox path to move it to.
 * @param options - `signal`, `timeout`.
 * @throws AgbError `tool_error` when the source is missing; `session_not_found`, ...
 * @example
 * ```ts
 * await move(client, session, '/tmp/out.csv', '/home/user/out.csv')
 * ```
 */
export async function move(client: Client, session: SessionRef, source: string, destination: string, options?: RequestOptions): Promise<void> {
  const args = { source: validate(nonEmpty('source'), source, 'source'), destination: validate(nonEmpty('destination'), destination, 'destination') }
  await runTool(client, session, 'move', 'move_file', args, options)
}
