import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { sandboxAbsolute } from '../../sandbox/resolveSessionPath.ts'
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
    const entries = await session.sandbox.fs.list(path)
    if (!entries) return textResult(`Error: not a directory: ${sandboxAbsolute(path)}`, true)
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    return textResult(entries.map((e) => `${e.dir ? '[DIR]' : '[FILE]'} ${e.name}`).join('\n'))
  },
}
