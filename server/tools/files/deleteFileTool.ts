import { lstat, rm, unlink } from 'node:fs/promises'
import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { hostPath, sandboxPath } from './sessionPaths.ts'
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
    const host = hostPath(session, path, false)
    if (host === session.rootDir) return textResult('Error: cannot delete the root directory', true)
    const st = await lstat(host)
    if (st.isDirectory()) await rm(host, { recursive: true, force: true })
    else await unlink(host)
    return textResult(`Successfully deleted ${sandboxPath(path)}`)
  },
}
