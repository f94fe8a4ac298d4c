import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { runTool } from '../_internal/runTool.ts'
import { nonEmpty, requestOptionEntries, validate } from '../_internal/validate.ts'

const SearchFilesOptionsSchema = v.object({
  exclude: v.optional(v.array(nonEmpty('exclude pattern'), 'exclude must be an array of patterns')),
  ...requestOptionEntries,
})

/** Options for {@link searchFiles}. */
export interface SearchFilesOptions extends RequestOptions {
  /** Glob patterns to leave out. */
  exclude?: string[]
}

/**
 * Finds files under a directory whose names match a glob (tool `search_files`).
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param path - Absolute sandbox directory to search.
 * @param pattern - Glob, e.g. `*.py`.
 * @param options - `exclude`, `signal`, `timeout`.
 * @returns Matching paths (empty when none).
 * @throws AgbError `tool_error`, `session_not_found`, ...
 * @example
 * ```ts
 * const scripts = await searchFiles(client, session, '/home/user', '*.py', { exclude: ['node_modules'] })
 * ```
 */
export async function searchFiles(client: Client, session: SessionRef, path: string, pattern: string, options?: SearchFilesOptions): Promise<string[]> {
  const args: Record<string, unknown> = { path: validate(nonEmpty('path'), path, 'path'), pattern: validate(nonEmpty('pattern'), pattern, 'pattern') }
  const o = validate(SearchFilesOptionsSchema, options ?? {}, 'options')
  if (o.exclude?.length) args.excludePatterns = o.exclude
  const { text } = await runTool(client, session, 'searchFiles', 'search_files', args, o)
  if (text.trim() === 'No matches found') return []
  return text.split('\n').map((l) => l.trim()).filter(Boolean)
}
