import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { decode } from '../_internal/decode.ts'
import { api } from '../_internal/transport.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { requestOptions, clientOf } from '../_internal/check.ts'

const StatusSchema = v.pipe(
  v.looseObject({ status: v.optional(v.string()), Status: v.optional(v.string()) }),
  v.check((d) => (d.status ?? d.Status) !== undefined, 'no status'),
  v.transform((d) => (d.status ?? d.Status)!),
)

/**
 * Reads a session's status (`POST /mcp/getSessionInfo`): `RUNNING`, `DELETING`, `FINISH` ...
 * (casing varies by service version; compare case-insensitively). Does not reset the
 * idle timer.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param options - `signal`, `timeout`.
 * @returns The status string as the service reports it.
 * @throws AgbError `session_not_found` once the session is released; `unauthorized`, `timeout`, ...
 * @example
 * ```ts
 * if ((await getSessionStatus(client, id)).toUpperCase() === 'RUNNING') { ... }
 * ```
 */
export async function getSessionStatus(client: Client, session: SessionRef, options?: RequestOptions): Promise<string> {
  const envelope = await withDeadline('getSessionStatus', requestOptions(options), clientOf(client).timeout, (call) => api(client, { method: 'POST', path: '/mcp/getSessionInfo', idempotent: true, body: { sessionId: sessionId(session) } }, call))
  return decode(StatusSchema, envelope.data, envelope)
}
