import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { invokeTool } from '../_internal/invokeTool.ts'
import { remoteBudget } from '../_internal/remoteBudget.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { shellResult } from '../_internal/shellResult.ts'
import { nonBlank, requestOptions, stringRecord, clientOf } from '../_internal/check.ts'

/** Options for {@link exec}. */
export interface ExecOptions extends RequestOptions {
  /** Working directory in the sandbox. Default: the image's (`/home/user` on AGB Local). */
  cwd?: string
  /** Extra environment variables for this command. Values must be strings. */
  env?: Record<string, string>
  /**
   * Milliseconds the whole call may take. Default 60 000 (the official SDKs default to
   * 1 000, which kills most real work). The sandbox kills the command 10 % earlier (at least
   * 0.5 s, or half the timeout below 1 s; at most 5 s) so that what it printed comes back
   * with `timedOut: true`.
   */
  timeout?: number
}

/** The result of {@link exec}. A non-zero `exitCode` is data, not an exception. */
export interface ExecResult {
  /** The exit code; 124 when the command was killed at its timeout; −1 when the tool failed without one. */
  exitCode: number
  /** Output printed to stdout (up to the kill, when `timedOut`). */
  stdout: string
  /** Output printed to stderr (up to the kill, when `timedOut`). */
  stderr: string
  /** `true` when the sandbox killed the command at its timeout. */
  timedOut: boolean
  /** The service's request id. */
  requestId: string
  /** Trace id of the command, when the service gives one (quote it to support). */
  traceId?: string
}

/**
 * Runs a shell command in a fresh shell in the session (tool `shell`). Shell state does
 * not carry over between calls (chain with `&&`); files do.
 *
 * A command still running at its timeout is killed by the sandbox a little before the call's
 * deadline and returned with `timedOut: true`, exit code 124 and the output printed so far.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param command - The command line.
 * @param options - `cwd`, `env`, `timeout` (ms, default 60 000), `signal`, `retry`.
 * @returns `exitCode`, `stdout`, `stderr`, `timedOut`. A non-zero exit code is returned, not thrown.
 * @throws AgbError `invalid_input` for an empty command or non-string env values;
 *   `tool_error` when the tool fails without an exit code; `session_not_found`, `timeout`
 *   (no answer at all by the deadline), ...
 * @example
 * ```ts
 * const { exitCode, stdout } = await exec(client, session, 'ls -la', { cwd: '/tmp' })
 * ```
 */
export async function exec(client: Client, session: SessionRef, command: string, options?: ExecOptions): Promise<ExecResult> {
  clientOf(client)
  sessionId(session)
  const cmd = nonBlank(command, 'command')
  const o = requestOptions(options)
  const remote = remoteBudget(o?.timeout ?? 60_000)
  const args: Record<string, unknown> = { command: cmd, timeout_ms: remote }
  if (o?.cwd !== undefined) args.cwd = nonBlank(o.cwd, 'options.cwd')
  if (o?.env !== undefined) args.envs = stringRecord(o.env, 'options.env')
  const started = Date.now()
  const output = await withDeadline('exec', o, 60_000, (call) => invokeTool(client, session, 'shell', args, call))
  const result = shellResult(output)
  // 124 is what a kill at the limit reports (as coreutils `timeout`); a command that exits
  // 124 by itself before the limit is not a timeout.
  return { ...result, timedOut: result.exitCode === 124 && Date.now() - started >= remote, requestId: output.requestId }
}
