import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { sandboxAbsolute } from '../../sandbox/resolveSessionPath.ts'
import { stringArg } from './toolArgs.ts'

/**
 * `delete_file` {path} (§5.3): removes a file, a symlink (not its target) or a directory
 * tree. A missing path is a tool error.
 */
export const deleteFileTool: Tool = {
  name: 'delete_file',
  description: 'Delete a file, symlink or directory (recursively).',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  async run(args, { session }) {
    const path = stringArg(args, 'path')
    if (sandboxAbsolute(path) === '/') return textResult('Error: cannot delete the root directory', true)
    await session.sandbox.fs.remove(path)
    return textResult(`Successfully deleted ${sandboxAbsolute(path)}`)
  },
}
