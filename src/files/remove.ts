import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { runTool } from '../_internal/runTool.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'

/**
 * Deletes a file in the sandbox (tool `delete_file`).
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param path - Absolute sandbox path.
 * @param options - `signal`, `timeout`.
 * @throws AgbError `tool_error`, `session_not_found`, ...
 * @example
 * ```ts
 * await remove(client, session, '/tmp/scratch.txt')
 * ```
 */
export async function remove(client: Client, session: SessionRef, path: string, options?: RequestOptions): Promise<void> {
  await runTool(client, session, 'remove', 'delete_file', { path: validate(nonEmpty('path'), path, 'path') }, options)
}
