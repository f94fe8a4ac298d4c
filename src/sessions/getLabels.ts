import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { decode, jsonString } from '../_internal/decode.ts'
import { api } from '../_internal/transport.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { requestOptions, clientOf } from '../_internal/check.ts'

// `data.labels` is a JSON-encoded object; the official SDKs fall back to {} when it is not.
const LabelsDataSchema = v.pipe(
  v.optional(v.nullable(v.looseObject({ labels: v.optional(v.unknown()) }))),
  v.transform((d) => d?.labels),
  jsonString,
  v.fallback(v.record(v.string(), v.string()), {}),
)

/**
 * Reads a session's labels (`GET /sdk/GetLabel`).
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param options - `signal`, `timeout`.
 * @returns The labels object (`{}` when none).
 * @throws AgbError `session_not_found`, `unauthorized`, `timeout`, ...
 * @example
 * ```ts
 * const { project } = await getLabels(client, session)
 * ```
 */
export async function getLabels(client: Client, session: SessionRef, options?: RequestOptions): Promise<Record<string, string>> {
  const envelope = await withDeadline('getLabels', requestOptions(options), clientOf(client).timeout, (call) => api(client, { method: 'GET', path: '/sdk/GetLabel', idempotent: true, query: { sessionId: sessionId(session) } }, call))
  return decode(LabelsDataSchema, envelope.data, envelope)
}
