import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { api } from '../_internal/transport.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { requestOptions, clientOf } from '../_internal/check.ts'

/**
 * Resets the session's idle-release timer (`POST /mcp/refreshSessionIdleTime`). Call it at
 * 50–70 % of the idle timeout while a session waits for work.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param options - `signal`, `timeout`.
 * @throws AgbError `session_not_found` once the session is released; `unauthorized`, `timeout`, ...
 * @example
 * ```ts
 * const timer = setInterval(() => keepAlive(client, session), 180_000)
 * ```
 */
export async function keepAlive(client: Client, session: SessionRef, options?: RequestOptions): Promise<void> {
  await withDeadline('keepAlive', requestOptions(options), clientOf(client).timeout, (call) => api(client, { method: 'POST', path: '/mcp/refreshSessionIdleTime', idempotent: true, query: { sessionId: sessionId(session) } }, call))
}
