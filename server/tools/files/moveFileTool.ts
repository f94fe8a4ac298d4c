import { lstat, mkdir, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { hostPath, sandboxPath } from './sessionPaths.ts'
import { stringArg } from './toolArgs.ts'

/**
 * `move_file` {source, destination} (§5.3): renames a file or directory (a symlink is moved
 * itself), creating the destination's parents. An existing destination is a tool error.
 */
export const moveFileTool: Tool = {
  name: 'move_file',
  description: 'Move or rename a file or directory; fails when the destination exists.',
  inputSchema: { type: 'object', properties: { source: { type: 'string' }, destination: { type: 'string' } }, required: ['source', 'destination'] },
  async run(args, { session }) {
    const source = stringArg(args, 'source')
    const destination = stringArg(args, 'destination')
    const from = hostPath(session, source, false)
    const to = hostPath(session, destination, false)
    if (from === session.rootDir || to === session.rootDir) return textResult('Error: cannot move the root directory', true)
    await lstat(from)
    if (await lstat(to).then(() => true, () => false)) return textResult(`Error: destination already exists: ${sandboxPath(destination)}`, true)
    await mkdir(dirname(to), { recursive: true })
    await rename(from, to)
    return textResult(`Successfully moved ${sandboxPath(source)} to ${sandboxPath(destination)}`)
  },
}
