import type { Client } from '../client.ts'
import type { ExecutionError, Language, LanguageAlias, RequestOptions, SessionRef } from '../types.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { invokeTool, toolText } from '../_internal/invokeTool.ts'
import { invalid, requestOptions, clientOf } from '../_internal/check.ts'
import { language } from '../_internal/language.ts'
import { parseCodeResult } from '../_internal/parseCodeResult.ts'
import { remoteBudget } from '../_internal/remoteBudget.ts'
import { sessionId } from '../_internal/sessionId.ts'

/** Options for {@link runCode}. */
export interface RunCodeOptions extends RequestOptions {
  /** Default `python`. Case-insensitive. */
  language?: Language | LanguageAlias
  /**
   * Milliseconds the whole call may take, at least 1 500. Default 65 000 (the code gets the
   * official 60 s). The sandbox stops the code 10 % earlier (at least 0.5 s, at most 5 s,
   * rounded down to whole seconds) so that the output so far comes back with
   * `timedOut: true` instead of the call failing.
   */
  timeout?: number
}

/** The result of {@link runCode}. A failure of the code itself is `error`, not an exception. */
export interface RunCodeResult {
  /** `false` when the code raised (or was stopped at its timeout). */
  success: boolean
  /** The main text result: the repr of the last expression, when there is one. */
  text?: string
  /** Everything printed to stdout. */
  stdout: string
  /** Everything printed to stderr. */
  stderr: string
  /** The same output in the chunks the sandbox produced. */
  logs: { stdout: string[]; stderr: string[] }
  /**
   * Every result (displayed outputs and the last expression) as the service sent it;
   * `richResults(result)` decodes them by MIME kind (html, png, charts ...).
   */
  results: unknown[]
  /** The exception the code raised; a timeout is a `TimeoutError` here. */
  error?: ExecutionError
  /** The kernel's execution counter, when it reports one. */
  executionCount?: number
  /** Seconds the code ran, as the sandbox reports it (`0` when it does not). */
  executionTime: number
  /** `true` when the sandbox stopped the code at its timeout; the output so far is kept. */
  timedOut: boolean
  /** The service's request id. */
  requestId: string
}

/**
 * Runs code in the session (tool `run_code`) and returns when it has finished. Python and
 * JavaScript kernels keep state between calls of the same session.
 *
 * An exception raised by the code is returned as `result.error` (with `success: false`);
 * code still running at its timeout is stopped and returned with `timedOut: true` and its
 * output so far. Only transport, API and contract failures throw. For output while the code
 * runs, use `streamCode` (and `collectCode` to fold it into this result).
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param code - Source text.
 * @param options - `language` (default python), `timeout` (ms, default 65 000), `signal`, `retry`.
 * @returns `text` (the main text result), `stdout`, `stderr`, `results` (raw; `richResults` decodes them), `error`, `timedOut`, `executionCount`, `executionTime`.
 * @throws AgbError `invalid_input` for an unknown language or a timeout under 1500 ms; `session_not_found`, `timeout`, `tool_error`, ...
 * @example
 * ```ts
 * const { text, stdout, error } = await runCode(client, session, 'x = 21\nx * 2')
 * console.log(text) // "42"
 * ```
 */
export async function runCode(client: Client, session: SessionRef, code: string, options?: RunCodeOptions): Promise<RunCodeResult> {
  clientOf(client)
  sessionId(session)
  if (typeof code !== 'string') invalid('code', 'a string')
  const o = requestOptions(options)
  if (o && ('onStdout' in o || 'onStderr' in o)) invalid('options.onStdout', 'absent: live output comes from collectCode(streamCode(client, session, code), { onStdout })')
  const timeout = o?.timeout ?? 65_000
  // The sandbox counts whole seconds: below this the code could not be stopped before the call ends.
  if (timeout < 1_500) invalid('options.timeout', 'at least 1500 ms (the sandbox stops code in whole seconds, 0.5 s before the call ends)')
  const args = { code, language: language(o?.language), timeout_s: Math.floor(remoteBudget(timeout) / 1000) }
  const output = await withDeadline('runCode', o, timeout, (call) => invokeTool(client, session, 'run_code', args, call))
  return { ...parseCodeResult(toolText(output, 'run_code')), requestId: output.requestId }
}
