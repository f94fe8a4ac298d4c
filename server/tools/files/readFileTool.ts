import { constants } from 'node:fs'
import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { openInSession } from './openInSession.ts'
import { hostPath, sandboxPath } from './sessionPaths.ts'
import { countArg, stringArg } from './toolArgs.ts'

/** Largest single read (the SDKs read in 50 KiB chunks; the seed era read whole files). */
export const MAX_READ_BYTES = 32 * 1024 * 1024

/**
 * `read_file` {path, offset, length (0 = to the end), format: 'binary'} (§5.3): the bytes
 * `[offset, offset+length)` as UTF-8 text, or base64 with `format: 'binary'`.
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
    const fh = await openInSession(session, hostPath(session, path), constants.O_RDONLY)
    try {
      const st = await fh.stat()
      if (st.isDirectory()) return textResult(`Error: ${sandboxPath(path)} is a directory`, true)
      if (!st.isFile()) return textResult(`Error: ${sandboxPath(path)} is not a regular file`, true)
      const start = Math.min(offset, st.size)
      const end = length > 0 ? Math.min(st.size, start + length) : st.size
      if (end - start > MAX_READ_BYTES) return textResult(`Error: ${end - start} bytes requested; read at most ${MAX_READ_BYTES} bytes per call (use offset/length)`, true)
      const buf = Buffer.alloc(end - start)
      let at = 0
      while (at < buf.length) {
        const { bytesRead } = await fh.read(buf, at, buf.length - at, start + at)
        if (bytesRead === 0) break // the file shrank meanwhile
        at += bytesRead
      }
      const bytes = buf.subarray(0, at)
      return textResult(args.format === 'binary' ? bytes.toString('base64') : bytes.toString('utf8'))
    } finally {
      await fh.close()
    }
  },
}
