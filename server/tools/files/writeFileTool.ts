import { constants } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { openInSession } from './openInSession.ts'
import { hostPath, sandboxPath } from './sessionPaths.ts'
import { stringArg } from './toolArgs.ts'

const { O_WRONLY, O_CREAT, O_APPEND, O_EXCL } = constants
// overwrite truncates only after openInSession checked where the file is.
const FLAGS = { overwrite: O_WRONLY | O_CREAT, append: O_WRONLY | O_CREAT | O_APPEND, create_new: O_WRONLY | O_CREAT | O_EXCL }

/**
 * `write_file` {path, content, mode: overwrite | append | create_new} (§5.3): writes UTF-8
 * text, creating parent directories. `create_new` on an existing path is a tool error.
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
    if (!(mode in FLAGS)) return textResult(`Error: unknown mode ${mode}; expected overwrite, append or create_new`, true)
    const host = hostPath(session, path)
    await mkdir(dirname(host), { recursive: true })
    let fh
    try {
      fh = await openInSession(session, host, FLAGS[mode as keyof typeof FLAGS])
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return textResult(`Error: file already exists: ${sandboxPath(path)}`, true)
      if ((e as NodeJS.ErrnoException).code === 'EISDIR') return textResult(`Error: ${sandboxPath(path)} is a directory`, true)
      throw e
    }
    try {
      if (!(await fh.stat()).isFile()) return textResult(`Error: ${sandboxPath(path)} is not a regular file`, true)
      if (mode === 'overwrite') await fh.truncate(0)
      await fh.writeFile(args.content, 'utf8')
    } finally {
      await fh.close()
    }
    return textResult(`Successfully wrote to ${sandboxPath(path)}`)
  },
}
