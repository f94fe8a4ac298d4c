import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { runTool } from '../_internal/runTool.ts'
import type { FileInfo } from '../types.ts'
import { parseFileInfo } from '../_internal/parseFileInfo.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'

/**
 * Describes a file or directory in the sandbox (tool `get_file_info`).
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param path - Absolute sandbox path.
 * @param options - `signal`, `timeout`.
 * @returns `{ size, isDirectory, name?, path?, modTime?, mode?, owner?, group? }`.
 * @throws AgbError `not_found` naming the path when it does not exist; `tool_error` when the tool fails otherwise; `session_not_found`, ...
 * @example
 * ```ts
 * const { size, isDirectory } = await stat(client, session, '/home/user/data.csv')
 * ```
 */
export async function stat(client: Client, session: SessionRef, path: string, options?: RequestOptions): Promise<FileInfo> {
  const p = validate(nonEmpty('path'), path, 'path')
  return parseFileInfo((await runTool(client, session, 'stat', 'get_file_info', { path: p }, options, p)).text)
}
