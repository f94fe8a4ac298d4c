import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { runTool } from '../_internal/runTool.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'

/** An entry of a directory listing. */
export interface DirEntry {
  name: string
  type: 'file' | 'directory'
}

/**
 * Lists a directory in the sandbox (tool `list_directory`).
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param path - Absolute sandbox path of a directory.
 * @param options - `signal`, `timeout`.
 * @returns The entries, `{ name, type: 'file' | 'directory' }`, in the service's order.
 * @throws AgbError `tool_error` when the directory does not exist; `session_not_found`, ...
 * @example
 * ```ts
 * const files = (await listDir(client, session, '/home/user')).filter((e) => e.type === 'file')
 * ```
 */
export async function listDir(client: Client, session: SessionRef, path: string, options?: RequestOptions): Promise<DirEntry[]> {
  const p = validate(nonEmpty('path'), path, 'path')
  const { text } = await runTool(client, session, 'listDir', 'list_directory', { path: p }, options)
  return text.split('\n').flatMap((line): DirEntry[] => {
    const m = /^\[(DIR|FILE)\]\s(.+)$/.exec(line.trimEnd())
    return m ? [{ name: m[2]!, type: m[1] === 'DIR' ? 'directory' : 'file' }] : []
  })
}
