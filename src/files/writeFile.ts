import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { toBase64 } from '../_internal/base64.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { answerError } from '../_internal/envelope.ts'
import { invokeTool, toolText } from '../_internal/invokeTool.ts'
import { shellResult } from '../_internal/shellResult.ts'
import { invalid, nonBlank, oneOf, requestOptions, clientOf } from '../_internal/check.ts'

/** The service takes at most this many characters per `write_file` call. */
const CHUNK = 51_200

/** Options for {@link writeFile}. */
export interface WriteFileOptions extends RequestOptions {
  /** `overwrite` (default), `append`, or `create_new` (fails if the file exists). */
  mode?: 'overwrite' | 'append' | 'create_new'
}

/** Cuts a string into chunks of at most `size` UTF-16 units without splitting a surrogate pair. */
function chunks(text: string, size: number): string[] {
  const out: string[] = []
  for (let i = 0; i < text.length; ) {
    let end = Math.min(i + size, text.length)
    const last = text.charCodeAt(end - 1)
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--
    out.push(text.slice(i, end))
    i = end
  }
  return out.length ? out : ['']
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * Writes a file in the sandbox (tool `write_file`), in 50 KiB chunks: the first with the
 * requested mode, the rest appended.
 *
 * Bytes (`Uint8Array`) are written exactly: the service has no binary write, so they travel
 * as base64 text to a staging file and are decoded in the sandbox with `base64 -d` (tool
 * `shell`). For large binaries prefer `uploadFile`.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param path - Absolute sandbox path.
 * @param content - A string (written as UTF-8) or bytes.
 * @param options - `mode` (`overwrite` default, `append`, `create_new`), `signal`, `timeout` (whole write).
 * @throws AgbError `tool_error` (e.g. `create_new` on an existing file), `session_not_found`, `timeout`, ...
 * @example
 * ```ts
 * await writeFile(client, session, '/home/user/hello.py', "print('hi')")
 * ```
 */
export async function writeFile(
  client: Client,
  session: SessionRef,
  path: string,
  content: string | Uint8Array,
  options?: WriteFileOptions,
): Promise<void> {
  const p = nonBlank(path, 'path')
  if (typeof content !== 'string' && !(content instanceof Uint8Array)) invalid('content', 'a string or a Uint8Array')
  const o = requestOptions(options)
  const mode = oneOf(o?.mode, ['overwrite', 'append', 'create_new'], 'overwrite', 'options.mode')
  return withDeadline('writeFile', o, clientOf(client).timeout, async (call) => {
    const write = async (target: string, text: string, mode: string) => {
      let first = true
      for (const part of chunks(text, CHUNK)) {
        toolText(await invokeTool(client, session, 'write_file', { path: target, content: part, mode: first ? mode : 'append' }, call), 'write_file')
        first = false
      }
    }
    if (typeof content === 'string') return write(p, content, mode)
    const target = `${p}.agb-upload-${crypto.randomUUID().slice(0, 8)}.b64`
    await write(target, toBase64(content), 'create_new')
    const staging = quote(target)
    const guard = mode === 'create_new' ? `[ ! -e ${quote(p)} ] || { echo file exists >&2; rm -f ${staging}; exit 17; }; ` : ''
    const command = `${guard}base64 -d ${staging} ${mode === 'append' ? '>>' : '>'} ${quote(p)}; status=$?; rm -f ${staging}; exit $status`
    const out = await invokeTool(client, session, 'shell', { command, timeout_ms: 60_000 }, call)
    const result = shellResult(out)
    if (out.isError || result.exitCode) throw answerError('tool_error', out.answer, `writing bytes to ${p} failed: ${result.stderr || out.text || 'no message'}`)
  })
}
