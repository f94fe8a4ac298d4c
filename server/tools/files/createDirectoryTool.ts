import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { sandboxAbsolute } from '../../sandbox/resolveSessionPath.ts'
import { stringArg } from './toolArgs.ts'

/** `create_directory` {path} (§5.3): creates the directory and its parents; existing is fine. */
export const createDirectoryTool: Tool = {
  name: 'create_directory',
  description: 'Create a directory (and missing parents); succeeds when it already exists.',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  async run(args, { session }) {
    const path = stringArg(args, 'path')
    await session.sandbox.fs.mkdir(path)
    return textResult(`Successfully created directory ${sandboxAbsolute(path)}`)
  },
}
