import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { api } from '../_internal/transport.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { LabelsSchema, validate } from '../_internal/validate.ts'
import { requestOptions, clientOf } from '../_internal/check.ts'

/**
 * Replaces a session's labels (`POST /sdk/SetLabel`, query key `Labels`).
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param labels - A non-empty object of non-blank strings.
 * @param options - `signal`, `timeout`.
 * @throws AgbError `invalid_input` for an empty object or blank keys/values; `session_not_found`, ...
 * @example
 * ```ts
 * await setLabels(client, session, { project: 'demo', stage: 'prod' })
 * ```
 */
export async function setLabels(client: Client, session: SessionRef, labels: Record<string, string>, options?: RequestOptions): Promise<void> {
  const id = sessionId(session)
  const l = validate(v.pipe(LabelsSchema, v.check((o) => Object.keys(o).length > 0, 'labels must not be empty')), labels, 'labels')
  await withDeadline('setLabels', requestOptions(options), clientOf(client).timeout, (call) => api(client, { method: 'POST', path: '/sdk/SetLabel', idempotent: true, query: { sessionId: id, Labels: JSON.stringify(l) } }, call))
}
