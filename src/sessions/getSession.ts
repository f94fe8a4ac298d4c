import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { api } from '../_internal/transport.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { requestOptions, clientOf } from '../_internal/check.ts'
import type { Session } from '../types.ts'
import { toSession } from '../_internal/toSession.ts'

/**
 * Fetches a session by id (`POST /mcp/getSession`) and rebuilds a full handle: `linkUrl`,
 * `wsUrl`, `token`, tools and status. Use it to resume a session another process created.
 *
 * @param client - The client.
 * @param session - The session id (or a handle to refresh).
 * @param options - `signal`, `timeout`.
 * @returns The {@link Session}, with `status`.
 * @throws AgbError `session_not_found` when the session is gone; `unauthorized`, `timeout`, ...
 * @example
 * ```ts
 * const session = await getSession(client, await env.KV.get('session-id'))
 * ```
 */
export async function getSession(client: Client, session: SessionRef, options?: RequestOptions): Promise<Session> {
  const id = sessionId(session)
  const envelope = await withDeadline('getSession', requestOptions(options), clientOf(client).timeout, (call) => api(client, { method: 'POST', path: '/mcp/getSession', idempotent: true, body: { sessionId: id } }, call))
  return toSession(client, envelope, typeof session === 'object' ? (session as { imageId?: string }).imageId : undefined, id)
}
