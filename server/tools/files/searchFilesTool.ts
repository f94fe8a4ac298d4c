import { stat } from 'node:fs/promises'
import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { globToRegExp } from './globToRegExp.ts'
import { hostPath, sandboxPath, sandboxPathOf } from './sessionPaths.ts'
import { stringArg } from './toolArgs.ts'
import { walkTree } from './walkTree.ts'

const MAX_VISITED = 200_000
const MAX_MATCHES = 10_000
const GLOB_CHARS = /[*?[{]/

/**
 * A matcher for one pattern: with a `/` it matches the path relative to the search root,
 * else the entry name. `partial` (search patterns): a pattern without glob characters
 * matches names containing it, case-insensitively (the MCP filesystem server's behaviour).
 */
function matcher(pattern: string, partial: boolean): (rel: string, name: string) => boolean {
  if (partial && !GLOB_CHARS.test(pattern) && !pattern.includes('/')) {
    const needle = pattern.toLowerCase()
    return (_rel, name) => name.toLowerCase().includes(needle)
  }
  const re = globToRegExp(pattern)
  return pattern.includes('/') ? (rel) => re.test(rel) : (_rel, name) => re.test(name)
}

/**
 * `search_files` {path, pattern, excludePatterns?} (§5.3): files and directories below `path`
 * matching the glob `pattern` (`*.py`, `src/**\/*.ts`; a plain word matches names containing
 * it), skipping entries matching an `excludePatterns` glob and everything below them.
 * Newline-separated absolute sandbox paths, or `No matches found`. Symlinks are not entered.
 */
export const searchFilesTool: Tool = {
  name: 'search_files',
  description: 'Recursively find files and directories matching a glob pattern (excludePatterns to skip).',
  inputSchema: {
    type: 'object',
    properties: { path: { type: 'string' }, pattern: { type: 'string' }, excludePatterns: { type: 'array', items: { type: 'string' } } },
    required: ['path', 'pattern'],
  },
  async run(args, { session }) {
    const path = stringArg(args, 'path')
    const pattern = stringArg(args, 'pattern')
    const excludes = Array.isArray(args.excludePatterns) ? args.excludePatterns.filter((p): p is string => typeof p === 'string' && p !== '') : []
    const host = hostPath(session, path)
    if (!(await stat(host)).isDirectory()) return textResult(`Error: not a directory: ${sandboxPath(path)}`, true)
    const matches = matcher(pattern, true)
    const skips = excludes.map((p) => matcher(p, false))
    const found: string[] = []
    for await (const entry of walkTree(host, { limit: MAX_VISITED, skip: (e) => skips.some((m) => m(e.rel, e.dirent.name)) })) {
      if (!matches(entry.rel, entry.dirent.name)) continue
      found.push(sandboxPathOf(session, entry.host))
      if (found.length >= MAX_MATCHES) break
    }
    return textResult(found.length ? found.join('\n') : 'No matches found')
  },
}
