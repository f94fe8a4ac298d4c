import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { AgbError } from '../errors.ts'
import { decode, UrlSchema } from '../_internal/decode.ts'
import { api } from '../_internal/transport.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { requestOptionEntries, validate } from '../_internal/validate.ts'
import { clientOf } from '../_internal/check.ts'

const GetLinkOptionsSchema = v.object({
  protocolType: v.optional(v.pipe(v.string('protocolType must be a string'), v.trim(), v.nonEmpty('protocolType must not be blank'))),
  port: v.pipe(v.number('port is required: a sandbox port from 30100 to 30199'), v.integer('port must be whole'), v.minValue(30100, 'port must be from 30100 to 30199'), v.maxValue(30199, 'port must be from 30100 to 30199')),
  ...requestOptionEntries,
})

/** Options for {@link getLink}. */
export interface GetLinkOptions extends RequestOptions {
  /** Protocol of the link (values are image-specific and undocumented). */
  protocolType?: string
  /** Port inside the sandbox to expose. Required: the service links only ports 30100–30199. */
  port: number
}

/**
 * Gets a URL reaching into the session (`GET /internet/getLink`), e.g. for a server
 * listening on a port in the sandbox.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param options - `port` (required, 30100–30199), `protocolType`, `signal`, `timeout`, `retry`.
 * @returns The URL.
 * @throws AgbError `invalid_input` for a missing port or one outside 30100–30199; `session_not_found`, `unauthorized`, ...
 * @example
 * ```ts
 * const url = await getLink(client, session, { port: 30100 })
 * ```
 */
export async function getLink(client: Client, session: SessionRef, options: GetLinkOptions): Promise<string> {
  const id = sessionId(session)
  if (options?.port === undefined) throw new AgbError('invalid_input', 'Invalid options.port: port is required: a sandbox port from 30100 to 30199')
  const o = validate(GetLinkOptionsSchema, options, 'options')
  const envelope = await withDeadline('getLink', o, clientOf(client).timeout, (call) => api(client, { method: 'GET', path: '/internet/getLink', idempotent: true, query: { sessionId: id, protocolType: o.protocolType, port: o.port } }, call))
  return decode(UrlSchema, envelope.data, envelope)
}
