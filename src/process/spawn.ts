import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { ProcessData, ProcessHandle, RequestOptions, SessionRef } from '../types.ts'
import { AgbError } from '../errors.ts'
import { invokeTool } from '../_internal/invokeTool.ts'
import { processHandle } from '../_internal/processHandle.ts'
import { shellResult } from '../_internal/shellResult.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { nonEmpty, requestOptionEntries, validate } from '../_internal/validate.ts'
import { clientOf } from '../_internal/check.ts'

const SpawnOptionsSchema = v.object({
  cwd: v.optional(nonEmpty('cwd')),
  env: v.optional(v.record(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env names must be shell identifiers')), v.string('env values must be strings'))),
  ...requestOptionEntries,
})

/** Options for {@link spawn}. */
export interface SpawnOptions extends RequestOptions {
  /** Working directory in the sandbox. Default `/home/user` (the image's home). */
  cwd?: string
  /** Extra environment variables (names must be shell identifiers). */
  env?: Record<string, string>
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * Starts a command in the background in the sandbox and returns at once. Output goes to
 * files in the sandbox (`/tmp/.agb-proc/<id>/`), so it is never lost and any later
 * invocation can read it: store `handle.toJSON()` and call `attachProcess` (e.g. a Worker
 * starts a job in one request and reads its output in the next). Uses only the documented
 * `shell` and file tools, so it works against the real service.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param command - A shell command line.
 * @param options - `cwd`, `env`, `signal`, `timeout` (of the start call).
 * @returns A {@link ProcessHandle}: `pid`, `output()`, `wait()`, `kill()`, `toJSON()`.
 * @throws AgbError `invalid_input` for an empty command; `tool_error` when the start fails; `session_not_found`, ...
 * @example
 * ```ts
 * const proc = await spawn(client, session, 'python3 train.py')
 * for await (const chunk of proc.output()) console.log(chunk.stream, chunk.text)
 * console.log('exit', await proc.wait())
 * ```
 */
export async function spawn(client: Client, session: SessionRef, command: string, options?: SpawnOptions): Promise<ProcessHandle> {
  const id = sessionId(session)
  const cmd = validate(nonEmpty('command'), command, 'command')
  const o = validate(SpawnOptionsSchema, options ?? {}, 'options')
  const name = crypto.randomUUID().replace(/-/g, '').slice(0, 12)
  const dir = `/tmp/.agb-proc/${name}`
  const exports = Object.entries(o.env ?? {}).map(([k, val]) => `export ${k}=${quote(val)}; `).join('')
  // The exit code is written to a temporary name and renamed, so a reader never sees half of it.
  const inner = `${exports}${o.cwd ? `cd ${quote(o.cwd)} || exit 127; ` : ''}${cmd}`
  const wrapper = `sh -c ${quote(inner)}; echo $? > ${dir}/exit.tmp && mv ${dir}/exit.tmp ${dir}/exit`
  // setsid: the job is its own process group, so kill() reaches its children too.
  const start = `mkdir -p ${dir} && : > ${dir}/stdout && : > ${dir}/stderr && (setsid sh -c ${quote(wrapper)} > ${dir}/stdout 2> ${dir}/stderr < /dev/null & echo $!)`
  const out = await withDeadline('spawn', o, clientOf(client).timeout, (call) => invokeTool(client, id, 'shell', { command: start, timeout_ms: 15_000 }, call))
  const result = shellResult(out)
  const pid = Number.parseInt(result.stdout.trim(), 10)
  if (result.exitCode !== 0 || !Number.isInteger(pid)) {
    throw new AgbError('tool_error', `spawn: could not start the process: ${(result.stderr || result.stdout || 'no output').slice(0, 300)}`, { requestId: out.requestId })
  }
  const data: ProcessData = { sessionId: id, pid, dir }
  return processHandle(client, data)
}
