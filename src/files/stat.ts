import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { tool } from '../_internal/callTool.ts'
import { parseFileInfo, type FileInfo } from '../_internal/parseFileInfo.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'

/**
 * Describes a file or directory in the sandbox (tool `get_file_info`).
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param path - Absolute sandbox path.
 * @param options - `signal`, `timeout`.
 * @returns `{ size, isDirectory, name?, path?, modTime?, mode?, owner?, group? }`.
 * @throws AgbError `tool_error` when the path does not exist; `session_not_found`, ...
 * @example
 * ```ts
 * const { size, isDirectory } = await stat(client, session, '/home/user/data.csv')
 * ```
 */
export async function stat(client: Client, session: SessionRef, path: string, options?: RequestOptions): Promise<FileInfo> {
  const p = validate(nonEmpty('path'), path, 'path')
  return parseFileInfo((await tool(client, session, 'get_file_info', { path: p }, options)).text)
}
