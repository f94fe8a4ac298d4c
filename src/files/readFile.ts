import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { AgbError } from '../errors.ts'
import { fromBase64 } from '../_internal/base64.ts'
import { invokeTool, toolText } from '../_internal/invokeTool.ts'
import { parseFileInfo } from '../_internal/parseFileInfo.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { nonBlank, oneOf, requestOptions, clientOf } from '../_internal/check.ts'

/** The service reads at most this many bytes per `read_file` call. */
const CHUNK = 51_200

/** Largest file readFile reads into memory; downloadFile streams anything bigger. */
const MAX_BYTES = 512 * 1024 * 1024

/** Options for {@link readFile}. */
export interface ReadFileOptions extends RequestOptions {
  /** `text` (default) decodes UTF-8 to a string; `bytes` returns a `Uint8Array`. */
  format?: 'text' | 'bytes'
}

/**
 * Reads a whole file from the sandbox: `get_file_info` for the size, then `read_file` in
 * 50 KiB chunks. Large text files are read as bytes and decoded here, so a multi-byte UTF-8
 * character split across two chunks still decodes correctly.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param path - Absolute sandbox path.
 * @param options - `format` (`text` default, or `bytes`), `signal`, `timeout` (whole read).
 * @returns The content: a string, or a `Uint8Array` with `format: 'bytes'`.
 * @throws AgbError `not_found` naming the path when the file does not exist; `invalid_input` for a directory;
 *   `tool_error` when the tool fails otherwise; `session_not_found`, `timeout`, ...
 * @example
 * ```ts
 * const csv = await readFile(client, session, '/home/user/out.csv')
 * const png = await readFile(client, session, '/home/user/plot.png', { format: 'bytes' })
 * ```
 */
export async function readFile(client: Client, session: SessionRef, path: string, options: ReadFileOptions & { format: 'bytes' }): Promise<Uint8Array>
export async function readFile(client: Client, session: SessionRef, path: string, options?: ReadFileOptions & { format?: 'text' }): Promise<string>
export async function readFile(client: Client, session: SessionRef, path: string, options?: ReadFileOptions): Promise<string | Uint8Array>
export async function readFile(client: Client, session: SessionRef, path: string, options?: ReadFileOptions): Promise<string | Uint8Array> {
  const p = nonBlank(path, 'path')
  const o = requestOptions(options)
  const format = oneOf(o?.format, ['text', 'bytes'], 'text', 'options.format')
  return withDeadline('readFile', o, clientOf(client).timeout, async (call) => {
    const tool = async (name: string, args: Record<string, unknown>) => toolText(await invokeTool(client, session, name, args, call), name, p)
    const { isDirectory, size } = parseFileInfo(await tool('get_file_info', { path: p }))
    // A directory, an impossible size or one too big to hold in memory (downloadFile streams).
    if (isDirectory || !(size >= 0 && size <= MAX_BYTES && Number.isInteger(size))) {
      const what = isDirectory ? 'a directory' : `${size} bytes (readFile holds 0 to ${MAX_BYTES} bytes; downloadFile streams larger files)`
      throw new AgbError(isDirectory || size > MAX_BYTES ? 'invalid_input' : 'invalid_response', `readFile: ${p} is ${what}`)
    }
    if (format === 'text' && size <= CHUNK) {
      if (size === 0) return ''
      return tool('read_file', { path: p, offset: 0, length: size })
    }
    const bytes = new Uint8Array(size)
    let filled = 0
    for (let offset = 0; offset < size; offset += CHUNK) {
      const args = { path: p, offset, length: Math.min(CHUNK, size - offset), format: 'binary' }
      const chunk = fromBase64(await tool('read_file', args), `readFile: read_file ${p}`)
      // A file that changed size while being read: keep what was read, never overrun.
      bytes.set(chunk.subarray(0, size - filled), filled)
      filled += Math.min(chunk.length, size - filled)
      if (chunk.length === 0) break
    }
    const content = filled === size ? bytes : bytes.subarray(0, filled)
    return format === 'bytes' ? content : new TextDecoder().decode(content)
  })
}
