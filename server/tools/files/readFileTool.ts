import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { fsErrorCode } from '../../sandbox/fsErrorCode.ts'
import { sandboxAbsolute } from '../../sandbox/resolveSessionPath.ts'
import { countArg, stringArg } from './toolArgs.ts'

/** Largest single read (the SDKs read in 50 KiB chunks; the seed era read whole files). */
export const MAX_READ_BYTES = 32 * 1024 * 1024

/**
 * `read_file` {path, offset, length (0 = to the end), format: 'binary'} (§5.3): the bytes
 * `[offset, offset+length)` as UTF-8 text, or base64 with `format: 'binary'`. Read inside the
 * session's sandbox (see SandboxFs).
 */
export const readFileTool: Tool = {
  name: 'read_file',
  description: 'Read a file (a byte range with offset/length; format "binary" returns base64).',
  inputSchema: {
    type: 'object',
    properties: { path: { type: 'string' }, offset: { type: 'integer' }, length: { type: 'integer' }, format: { type: 'string', enum: ['text', 'binary'] } },
    required: ['path'],
  },
  async run(args, { session }) {
    const path = stringArg(args, 'path')
    const offset = countArg(args, 'offset', 0)
    const length = countArg(args, 'length', 0)
    let read
    try {
      read = await session.sandbox.fs.readFile(path, { offset, length, max: MAX_READ_BYTES })
    } catch (e) {
      if (fsErrorCode(e) === 'EISDIR') return textResult(`Error: ${sandboxAbsolute(path)} is a directory`, true)
      if (fsErrorCode(e) === 'ENOTREG') return textResult(`Error: ${sandboxAbsolute(path)} is not a regular file`, true)
      throw e
    }
    if (!read.data) {
      const start = Math.min(offset, read.size)
      const end = length > 0 ? Math.min(read.size, start + length) : read.size
      return textResult(`Error: ${end - start} bytes requested; read at most ${MAX_READ_BYTES} bytes per call (use offset/length)`, true)
    }
    return textResult(args.format === 'binary' ? read.data.toString('base64') : read.data.toString('utf8'))
  },
}
