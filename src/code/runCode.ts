import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { callTool, toolText } from '../_internal/callTool.ts'
import { parseCodeResult, type CodeOutcome } from '../_internal/parseCodeResult.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { withDeadline, remoteBudget } from '../_internal/signal.ts'
import { requestOptionEntries, validate } from '../_internal/validate.ts'
import { streamCode, type CodeEvent } from './streamCode.ts'
import { LanguageSchema, type Language } from '../_internal/language.ts'

const fn = (name: string) => v.optional(v.custom<(text: string) => void>((f) => typeof f === 'function', `${name} must be a function`))

const RunCodeOptionsSchema = v.object({
  language: LanguageSchema,
  onStdout: fn('onStdout'),
  onStderr: fn('onStderr'),
  ...requestOptionEntries,
})

/** Options for {@link runCode}. */
export interface RunCodeOptions extends RequestOptions {
  /** Default `python`. Case-insensitive; aliases accepted. */
  language?: Language | 'py' | 'python3' | 'js' | 'node' | 'nodejs' | (string & {})
  /**
   * Milliseconds the whole call may take. Default 65 000 (the code gets the official 60 s). The sandbox is told to stop the
   * code a little earlier (`timeout_s`, 10 % and at most 5 s less) so that it can report
   * what ran instead of the call being cut by the transport.
   */
  timeout?: number
  /** Called with each stdout chunk as it is produced (streams over the session's WebSocket, see `streamCode`). */
  onStdout?: (text: string) => void
  /** Called with each stderr chunk as it is produced (streams over the session's WebSocket). */
  onStderr?: (text: string) => void
}

/** The result of {@link runCode}. A failure of the code itself is `error`, not an exception. */
export interface RunCodeResult extends CodeOutcome {
  /** The service's request id. */
  requestId: string
}

/**
 * Runs code in the session (tool `run_code`). Python and JavaScript kernels keep state
 * between calls of the same session.
 *
 * An exception raised by the code is returned as `result.error` (with `success: false`);
 * only transport, API and contract failures throw.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param code - Source text.
 * @param options - `language` (default python), `timeout` (ms, default 65 000), `onStdout`/`onStderr` (live output), `signal`.
 * @returns `text` (the main text result), `stdout`, `stderr`, `results` by MIME kind, `error`, `executionCount`, `executionTime`.
 * @throws AgbError `invalid_input` for an unknown language; `session_not_found`, `timeout`, `tool_error`, ...
 * @example
 * ```ts
 * const { text, stdout, error } = await runCode(client, session, 'x = 21\nx * 2')
 * console.log(text) // "42"
 * ```
 */
export async function runCode(client: Client, session: SessionRef, code: string, options?: RunCodeOptions): Promise<RunCodeResult> {
  sessionId(session)
  const c = validate(v.string('code must be a string'), code, 'code')
  const o = validate(RunCodeOptionsSchema, options ?? {}, 'options')
  const timeout = o.timeout ?? 65_000
  if (o.onStdout || o.onStderr) return collect(streamCode(client, session, c, { ...o, timeout }), o)
  const args = { code: c, language: o.language, timeout_s: Math.floor(remoteBudget(timeout) / 1000) }
  const output = await withDeadline({ ...o, timeout }, 0, (signal) => callTool(client, session, 'run_code', args, signal))
  return { ...parseCodeResult(toolText(output, 'run_code')), requestId: output.requestId }
}

/** Assembles a {@link RunCodeResult} from a stream, passing output to the callbacks live. */
async function collect(stream: AsyncIterable<CodeEvent>, o: RunCodeOptions): Promise<RunCodeResult> {
  const out: RunCodeResult = { success: true, stdout: '', stderr: '', logs: { stdout: [], stderr: [] }, results: [], executionTime: 0, requestId: '' }
  for await (const event of stream) {
    if (event.type === 'stdout' || event.type === 'stderr') {
      out.logs[event.type].push(event.text)
      out[event.type] += event.text
      ;(event.type === 'stdout' ? o.onStdout : o.onStderr)?.(event.text)
    } else if (event.type === 'result') {
      out.results.push(event.result)
      if (event.result.text !== undefined && (event.result.isMainResult || out.text === undefined)) out.text = event.result.text
    } else if (event.type === 'error') {
      out.error = event.error
      out.success = false
    } else {
      if (event.status === 'failed') out.success = false
      if (event.executionCount !== undefined) out.executionCount = event.executionCount
      out.executionTime = event.executionTime
      out.requestId = event.requestId
    }
  }
  return out
}
