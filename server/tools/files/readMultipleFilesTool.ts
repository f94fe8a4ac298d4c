import { constants } from 'node:fs'
import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { MAX_READ_BYTES } from './readFileTool.ts'
import { openInSession } from './openInSession.ts'
import { hostPath } from './sessionPaths.ts'

const MAX_FILES = 100

/**
 * `read_multiple_files` {paths} (§5.3): one block per path, `"<path>: <content>"`, blocks
 * separated by a `---` line; a file that cannot be read gives `"<path>: Error - <reason>"`
 * (the call itself still succeeds).
 */
export const readMultipleFilesTool: Tool = {
  name: 'read_multiple_files',
  description: 'Read several text files at once; blocks "<path>: <content>" separated by "---" lines.',
  inputSchema: { type: 'object', properties: { paths: { type: 'array', items: { type: 'string' } } }, required: ['paths'] },
  async run(args, { session }) {
    const paths = args.paths
    if (!Array.isArray(paths) || !paths.length || !paths.every((p) => typeof p === 'string' && p)) return textResult('Error: paths must be a non-empty array of paths', true)
    if (paths.length > MAX_FILES) return textResult(`Error: at most ${MAX_FILES} paths per call`, true)
    const blocks = await Promise.all((paths as string[]).map(async (path) => {
      try {
        const fh = await openInSession(session, hostPath(session, path), constants.O_RDONLY)
        try {
          const st = await fh.stat()
          if (st.isDirectory()) throw new Error('is a directory')
          if (!st.isFile()) throw new Error('not a regular file')
          if (st.size > MAX_READ_BYTES) throw new Error(`file too large (${st.size} bytes)`)
          return `${path}: ${await fh.readFile('utf8')}`
        } finally {
          await fh.close()
        }
      } catch (e) {
        const err = e as NodeJS.ErrnoException
        const reason = err.code === 'ENOENT' ? 'No such file or directory' : err.code === 'ENOTDIR' ? 'Not a directory' : err.code === 'ELOOP' ? 'Too many levels of symbolic links' : err.message
        return `${path}: Error - ${reason}`
      }
    }))
    return textResult(blocks.join('\n---\n'))
  },
}
