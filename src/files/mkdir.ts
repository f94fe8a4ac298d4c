import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { runTool } from '../_internal/runTool.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'

/**
 * Creates a directory in the sandbox, with its parents (tool `create_directory`).
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param path - Absolute sandbox path.
 * @param options - `signal`, `timeout`.
 * @throws AgbError `tool_error`, `session_not_found`, ...
 * @example
 * ```ts
 * await mkdir(client, session, '/home/user/data/raw')
 * ```
 */
export async function mkdir(client: Client, session: SessionRef, path: string, options?: RequestOptions): Promise<void> {
  await runTool(client, session, 'mkdir', 'create_directory', { path: validate(nonEmpty('path'), path, 'path') }, options)
}
