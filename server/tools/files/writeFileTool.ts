import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { fsErrorCode } from '../../sandbox/fsErrorCode.ts'
import { sandboxAbsolute } from '../../sandbox/resolveSessionPath.ts'
import { stringArg } from './toolArgs.ts'

const MODES = new Set(['overwrite', 'append', 'create_new'])

/**
 * `write_file` {path, content, mode: overwrite | append | create_new} (§5.3): writes UTF-8
 * text, creating parent directories. `create_new` on an existing path is a tool error.
 * Written inside the session's sandbox (see SandboxFs).
 */
export const writeFileTool: Tool = {
  name: 'write_file',
  description: 'Write text to a file (mode overwrite, append or create_new), creating parent directories.',
  inputSchema: {
    type: 'object',
    properties: { path: { type: 'string' }, content: { type: 'string' }, mode: { type: 'string', enum: ['overwrite', 'append', 'create_new'] } },
    required: ['path', 'content'],
  },
  async run(args, { session }) {
    const path = stringArg(args, 'path')
    if (typeof args.content !== 'string') return textResult('Error: content must be a string', true)
    const mode = args.mode === undefined || args.mode === null || args.mode === '' ? 'overwrite' : String(args.mode)
    if (!MODES.has(mode)) return textResult(`Error: unknown mode ${mode}; expected overwrite, append or create_new`, true)
    try {
      await session.sandbox.fs.writeFile(path, args.content, { mode: mode as 'overwrite' | 'append' | 'create_new' })
    } catch (e) {
      if (fsErrorCode(e) === 'EEXIST' && mode === 'create_new') return textResult(`Error: file already exists: ${sandboxAbsolute(path)}`, true)
      if (fsErrorCode(e) === 'EISDIR') return textResult(`Error: ${sandboxAbsolute(path)} is a directory`, true)
      if (fsErrorCode(e) === 'ENOTREG') return textResult(`Error: ${sandboxAbsolute(path)} is not a regular file`, true)
      throw e
    }
    return textResult(`Successfully wrote to ${sandboxAbsolute(path)}`)
  },
}
