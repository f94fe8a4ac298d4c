import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { decode } from '../_internal/decode.ts'
import { api } from '../_internal/transport.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { requestOptions, clientOf } from '../_internal/check.ts'

const opt = v.optional(v.nullable(v.string()))

const SessionInfoSchema = v.pipe(
  v.looseObject({
    sessionId: v.string(),
    resourceUrl: opt,
    desktopInfo: v.optional(
      v.nullable(
        v.looseObject({ appId: opt, authCode: opt, connectionProperties: opt, resourceId: opt, resourceType: opt, ticket: opt }),
      ),
    ),
  }),
  v.transform(({ sessionId, resourceUrl, desktopInfo }) => {
    const info: { sessionId: string; resourceUrl?: string; appId?: string; authCode?: string; connectionProperties?: string; resourceId?: string; resourceType?: string; ticket?: string } = { sessionId }
    if (resourceUrl) info.resourceUrl = resourceUrl
    for (const key of ['appId', 'authCode', 'connectionProperties', 'resourceId', 'resourceType', 'ticket'] as const) {
      const value = desktopInfo?.[key]
      if (value) info[key] = value
    }
    return info
  }),
)

/** What {@link sessionInfo} returns: the session's resource and desktop details (flattened). */
export type SessionInfo = v.InferOutput<typeof SessionInfoSchema>

/**
 * Reads a session's resource info (`POST /mcp/getMcpResource`): its id, `resourceUrl` and
 * desktop details. Fails once the session is released, which makes it the classic
 * "is this session alive?" probe.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param options - `signal`, `timeout`.
 * @returns `{ sessionId, resourceUrl?, appId?, authCode?, connectionProperties?, resourceId?, resourceType?, ticket? }`.
 * @throws AgbError `session_not_found` when the session is gone; `unauthorized`, `timeout`, ...
 * @example
 * ```ts
 * const { resourceUrl } = await sessionInfo(client, session)
 * ```
 */
export async function sessionInfo(client: Client, session: SessionRef, options?: RequestOptions): Promise<SessionInfo> {
  const envelope = await withDeadline('sessionInfo', requestOptions(options), clientOf(client).timeout, (call) => api(client, { method: 'POST', path: '/mcp/getMcpResource', idempotent: true, body: { sessionId: sessionId(session) } }, call))
  return decode(SessionInfoSchema, envelope.data, envelope)
}
