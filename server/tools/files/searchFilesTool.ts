import { posix } from 'node:path'
import type { WalkMatcher } from '../../sandbox/SandboxFs.ts'
import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { globToRegExp } from './globToRegExp.ts'
import { sandboxAbsolute } from '../../sandbox/resolveSessionPath.ts'
import { stringArg } from './toolArgs.ts'

const MAX_VISITED = 200_000
const MAX_MATCHES = 10_000
const GLOB_CHARS = /[*?[{]/

/**
 * A matcher for one pattern, run where the files are (in the sandbox): with a `/` it matches
 * the path relative to the search root, else the entry name. `partial` (search patterns): a
 * pattern without glob characters matches names containing it, case-insensitively (the MCP
 * filesystem server's behaviour). The glob's regex is anchored on both ends by a whole-string
 * match there, so only its body is sent.
 */
function matcher(pattern: string, partial: boolean): WalkMatcher {
  if (partial && !GLOB_CHARS.test(pattern) && !pattern.includes('/')) return { contains: pattern.toLowerCase() }
  const source = globToRegExp(pattern).source
  return { regex: source.slice(1, -1), rel: pattern.includes('/') }
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
    const walk = await session.sandbox.fs.walk(path, {
      want: 'search',
      limit: MAX_VISITED,
      maxMatches: MAX_MATCHES,
      match: matcher(pattern, true),
      skip: excludes.map((p) => matcher(p, false)),
    })
    if (walk.missing) return textResult(`Error: ENOENT: no such file or directory, stat '${sandboxAbsolute(path)}'`, true)
    if (walk.type !== 'directory') return textResult(`Error: not a directory: ${sandboxAbsolute(path)}`, true)
    const found = walk.entries.map((rel) => posix.join(walk.top, rel as string))
    return textResult(found.length ? found.join('\n') : 'No matches found')
  },
}
