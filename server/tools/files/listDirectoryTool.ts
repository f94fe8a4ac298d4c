import { readdir, stat } from 'node:fs/promises'
import { posix } from 'node:path'
import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { hostPath, sandboxPath } from './sessionPaths.ts'
import { stringArg } from './toolArgs.ts'

/**
 * `list_directory` {path} (§5.3): one `[DIR] name` or `[FILE] name` line per entry, by name.
 * A symlink is listed by what it points to inside the sandbox (`[FILE]` when dangling).
 */
export const listDirectoryTool: Tool = {
  name: 'list_directory',
  description: 'List a directory: one "[DIR] name" or "[FILE] name" line per entry.',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  async run(args, { session }) {
    const path = stringArg(args, 'path')
    const host = hostPath(session, path)
    if (!(await stat(host)).isDirectory()) return textResult(`Error: not a directory: ${sandboxPath(path)}`, true)
    const entries = await readdir(host, { withFileTypes: true })
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const lines = await Promise.all(entries.map(async (e) => {
      let dir = e.isDirectory()
      if (e.isSymbolicLink()) dir = await stat(hostPath(session, posix.join(sandboxPath(path), e.name))).then((s) => s.isDirectory(), () => false)
      return `${dir ? '[DIR]' : '[FILE]'} ${e.name}`
    }))
    return textResult(lines.join('\n'))
  },
}
