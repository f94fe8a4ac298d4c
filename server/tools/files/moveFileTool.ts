import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { fsErrorCode } from '../../sandbox/fsErrorCode.ts'
import { sandboxAbsolute } from '../../sandbox/resolveSessionPath.ts'
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
    if (sandboxAbsolute(source) === '/' || sandboxAbsolute(destination) === '/') return textResult('Error: cannot move the root directory', true)
    try {
      await session.sandbox.fs.move(source, destination)
    } catch (e) {
      if (fsErrorCode(e) === 'EEXIST') return textResult(`Error: destination already exists: ${sandboxAbsolute(destination)}`, true)
      throw e
    }
    return textResult(`Successfully moved ${sandboxAbsolute(source)} to ${sandboxAbsolute(destination)}`)
  },
}
