import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { ProcessData, ProcessHandle } from '../types.ts'
import { processHandle } from '../_internal/processHandle.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'
import { clientOf } from '../_internal/check.ts'

const ProcessDataSchema = v.object({
  sessionId: nonEmpty('sessionId'),
  pid: v.pipe(v.number('pid must be a number'), v.integer('pid must be whole'), v.minValue(1, 'pid must be positive')),
  dir: v.pipe(nonEmpty('dir'), v.startsWith('/tmp/.agb-proc/', 'dir must be a spawn directory')),
})

/**
 * Re-attaches to a background process from its stored data (`handle.toJSON()`), in another
 * invocation or with another client. No request is sent.
 *
 * @param client - The client.
 * @param data - `{ sessionId, pid, dir }` as `toJSON()` returned it.
 * @returns A {@link ProcessHandle} with `output()`, `wait()`, `kill()`.
 * @throws AgbError `invalid_input` for malformed data.
 * @example
 * ```ts
 * const proc = attachProcess(client, JSON.parse(await env.KV.get('job')))
 * for await (const c of proc.output({ stdoutOffset: saved })) ...
 * ```
 */
export function attachProcess(client: Client, data: ProcessData): ProcessHandle {
  return processHandle(clientOf(client), validate(ProcessDataSchema, data, 'data'))
}
