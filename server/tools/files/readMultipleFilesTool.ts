import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { fsErrorCode } from './fsErrorCode.ts'
import { MAX_READ_BYTES } from './readFileTool.ts'

const MAX_FILES = 100
const REASONS: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  EISDIR: 'is a directory',
  ENOTREG: 'not a regular file',
}

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
        const read = await session.sandbox.fs.readFile(path, { max: MAX_READ_BYTES })
        if (!read.data) return `${path}: Error - file too large (${read.size} bytes)`
        return `${path}: ${read.data.toString('utf8')}`
      } catch (e) {
        const code = fsErrorCode(e) ?? (e as NodeJS.ErrnoException).code
        return `${path}: Error - ${(code && REASONS[code]) ?? (e as Error).message}`
      }
    }))
    return textResult(blocks.join('\n---\n'))
  },
}
