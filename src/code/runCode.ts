import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { callTool, toolText } from '../_internal/callTool.ts'
import { parseCodeResult, type CodeOutcome } from '../_internal/parseCodeResult.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { deadline, remoteBudget } from '../_internal/signal.ts'
import { requestOptionEntries, validate } from '../_internal/validate.ts'

const ALIASES: Record<string, Language> = {
  python: 'python',
  py: 'python',
  python3: 'python',
  javascript: 'javascript',
  js: 'javascript',
  node: 'javascript',
  nodejs: 'javascript',
  java: 'java',
  r: 'r',
}

/** Languages the sandbox runs. Aliases `py`, `python3`, `js`, `node`, `nodejs` are accepted too. */
export type Language = 'python' | 'javascript' | 'java' | 'r'

const RunCodeOptionsSchema = v.object({
  language: v.optional(
    v.pipe(
      v.string('language must be a string'),
      v.trim(),
      v.toLowerCase(),
      v.check((l) => l in ALIASES, 'language must be python, javascript, java or r (or py, python3, js, node, nodejs)'),
      v.transform((l) => ALIASES[l]!),
    ),
    'python',
  ),
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
 * @param options - `language` (default python), `timeout` (ms, default 65 000), `signal`.
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
  const args = { code: c, language: o.language, timeout_s: Math.floor(remoteBudget(timeout) / 1000) }
  const output = await callTool(client, session, 'run_code', args, deadline({ signal: o.signal, timeout }, 0))
  return { ...parseCodeResult(toolText(output, 'run_code')), requestId: output.requestId }
}
