import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { AgbError } from '../errors.ts'
import { callTool } from '../_internal/callTool.ts'
import { truncate } from '../_internal/request.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { withDeadline, remoteBudget } from '../_internal/signal.ts'
import { nonEmpty, requestOptionEntries, validate } from '../_internal/validate.ts'

const ExecOptionsSchema = v.object({
  cwd: v.optional(nonEmpty('cwd')),
  env: v.optional(v.record(v.pipe(v.string(), v.nonEmpty('env names must not be empty')), v.string('env values must be strings'))),
  ...requestOptionEntries,
})

/** Options for {@link exec}. */
export interface ExecOptions extends RequestOptions {
  /** Working directory in the sandbox. Default: the image's (`/home/user` on AGB Local). */
  cwd?: string
  /** Extra environment variables for this command. Values must be strings. */
  env?: Record<string, string>
  /**
   * Milliseconds the whole call may take. Default 60 000 (the official SDKs default to
   * 1 000, which kills most real work). The sandbox kills the command a little earlier
   * (`timeout_ms`, 10 % and at most 5 s less) so its output still comes back.
   */
  timeout?: number
}

const ShellJsonSchema = v.looseObject({
  stdout: v.optional(v.nullable(v.string())),
  stderr: v.optional(v.nullable(v.string())),
  exit_code: v.optional(v.nullable(v.number())),
  errorCode: v.optional(v.nullable(v.number())),
  traceId: v.optional(v.nullable(v.string())),
})

/** The result of {@link exec}. A non-zero `exitCode` is data, not an exception. */
export interface ExecResult {
  exitCode: number
  stdout: string
  stderr: string
  /** The service's request id. */
  requestId: string
  /** Trace id of the command, when the service gives one (quote it to support). */
  traceId?: string
}

const parse = (text: string) => {
  try {
    const result = v.safeParse(ShellJsonSchema, JSON.parse(text))
    return result.success ? result.output : undefined
  } catch {
    return undefined
  }
}

/**
 * Runs a shell command in a fresh shell in the session (tool `shell`). Shell state does
 * not carry over between calls (chain with `&&`); files do.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param command - The command line.
 * @param options - `cwd`, `env`, `timeout` (ms, default 60 000), `signal`.
 * @returns `exitCode`, `stdout`, `stderr`. A non-zero exit code is returned, not thrown.
 * @throws AgbError `invalid_input` for an empty command or non-string env values;
 *   `tool_error` when the tool fails without an exit code; `session_not_found`, `timeout`, ...
 * @example
 * ```ts
 * const { exitCode, stdout } = await exec(client, session, 'ls -la', { cwd: '/tmp' })
 * ```
 */
export async function exec(client: Client, session: SessionRef, command: string, options?: ExecOptions): Promise<ExecResult> {
  sessionId(session)
  const cmd = validate(nonEmpty('command'), command, 'command')
  const o = validate(ExecOptionsSchema, options ?? {}, 'options')
  const timeout = o.timeout ?? 60_000
  const args: Record<string, unknown> = { command: cmd, timeout_ms: remoteBudget(timeout) }
  if (o.cwd) args.cwd = o.cwd
  if (o.env) args.envs = o.env
  const output = await withDeadline({ ...o, timeout }, 0, (signal) => callTool(client, session, 'shell', args, signal))
  const json = parse(output.text)
  const requestId = output.requestId
  if (!json) {
    // Seed-era servers answer with raw text; a failure without JSON has no exit code to report.
    if (output.isError) {
      throw new AgbError('tool_error', `Tool shell failed: ${truncate(output.text || 'no message')}${requestId ? ` (request ${requestId})` : ''}`, { requestId })
    }
    return { exitCode: 0, stdout: output.text, stderr: '', requestId }
  }
  // `0` is a valid exit code and must not fall through to `errorCode` (PROTOCOL §5.2).
  const exitCode = json.exit_code ?? json.errorCode ?? (output.isError ? -1 : 0)
  return {
    exitCode,
    stdout: json.stdout ?? '',
    stderr: json.stderr ?? '',
    requestId,
    ...(json.traceId ? { traceId: json.traceId } : {}),
  }
}
