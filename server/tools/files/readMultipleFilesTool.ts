import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { fsErrorCode } from '../../sandbox/fsErrorCode.ts'
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
 * (the call itself still succeeds). Files are read in turn, all of them together at most
 * {@link MAX_READ_BYTES} (as one read_file call): the answer is held in the server's memory, and
 * the same large file listed 100 times must not cost 100 times its size. A file past that budget
 * gets an error block saying so.
 */
export const readMultipleFilesTool: Tool = {
  name: 'read_multiple_files',
  description: 'Read several text files at once; blocks "<path>: <content>" separated by "---" lines.',
  inputSchema: { type: 'object', properties: { paths: { type: 'array', items: { type: 'string' } } }, required: ['paths'] },
  async run(args, { session }) {
    const paths = args.paths
    if (!Array.isArray(paths) || !paths.length || !paths.every((p) => typeof p === 'string' && p)) return textResult('Error: paths must be a non-empty array of paths', true)
    if (paths.length > MAX_FILES) return textResult(`Error: at most ${MAX_FILES} paths per call`, true)
    const budgetMiB = MAX_READ_BYTES / 1024 / 1024
    let left = MAX_READ_BYTES
    const blocks: string[] = []
    for (const path of paths as string[]) {
      try {
        const read = await session.sandbox.fs.readFile(path, { max: left })
        if (read.data) {
          left -= read.data.length
          blocks.push(`${path}: ${read.data.toString('utf8')}`)
        } else if (left === MAX_READ_BYTES) {
          blocks.push(`${path}: Error - file too large (${read.size} bytes; read_file reads it in parts with offset/length)`)
        } else {
          blocks.push(`${path}: Error - not read: ${read.size} bytes would pass the ${budgetMiB} MiB one read_multiple_files call returns (${MAX_READ_BYTES - left} bytes read already); read it in another call`)
        }
      } catch (e) {
        const code = fsErrorCode(e) ?? (e as NodeJS.ErrnoException).code
        blocks.push(`${path}: Error - ${(code && REASONS[code]) ?? (e as Error).message}`)
      }
    }
    return textResult(blocks.join('\n---\n'))
  },
}
