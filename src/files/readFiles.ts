import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { runTool } from '../_internal/runTool.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'

const PathsSchema = v.pipe(v.array(nonEmpty('path'), 'paths must be an array of paths'), v.nonEmpty('paths must not be empty'))

/**
 * Reads several small text files in one call (tool `read_multiple_files`). The service
 * trims each content; use `readFile` when exact whitespace matters.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param paths - Absolute sandbox paths.
 * @param options - `signal`, `timeout`.
 * @returns An object from each path to its content (a path the service did not return is absent).
 * @throws AgbError `tool_error`, `session_not_found`, ...
 * @example
 * ```ts
 * const { '/etc/hostname': host } = await readFiles(client, session, ['/etc/hostname', '/etc/os-release'])
 * ```
 */
export async function readFiles(client: Client, session: SessionRef, paths: string[], options?: RequestOptions): Promise<Record<string, string>> {
  const ps = validate(PathsSchema, paths, 'paths')
  const { text } = await runTool(client, session, 'readFiles', 'read_multiple_files', { paths: ps }, options)
  // Blocks are separated by a `---` line and start with "<path>: <first content line>".
  // Match against the requested paths so a colon inside a path or content cannot confuse us.
  const out: Record<string, string> = {}
  for (const block of text.split(/\r?\n---\r?\n/)) {
    const path = ps.filter((p) => block.startsWith(`${p}:`)).sort((a, b) => b.length - a.length)[0]
    if (path !== undefined) out[path] = block.slice(path.length + 1).trim()
  }
  return out
}
