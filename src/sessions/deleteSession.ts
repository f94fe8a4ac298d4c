import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { isAgbError } from '../errors.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { envelopeError, isNotFound } from '../_internal/envelope.ts'
import { pause } from '../_internal/sleep.ts'
import { send } from '../_internal/transport.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { socketClosers } from '../_internal/socketClosers.ts'
import { invalid, positive, requestOptions, clientOf } from '../_internal/check.ts'
import { toText } from '../_internal/toText.ts'

/** Options for {@link deleteSession}. */
export interface DeleteSessionOptions extends RequestOptions {
  /**
   * Wait until the service reports the session gone. Default `true`. Pass `false` in
   * serverless handlers that must answer fast: the release is requested and not awaited.
   */
  wait?: boolean
  /** Longest wait between status polls (they start at 100 ms and double). Default 1000. */
  pollInterval?: number
  /** Milliseconds the release and the wait may take together. Default 120 000. */
  timeout?: number
}

/** What {@link deleteSession} did. */
export interface DeleteSessionResult {
  /** Request id of the release call. */
  requestId: string
  /** `true` when the session was confirmed gone; `false` when `wait: false` skipped the check. */
  confirmed: boolean
}

/**
 * Deletes a session: `POST /mcp/releaseSessionAsync`, then polls `POST /mcp/getSessionInfo`
 * (after 100 ms, then backing off to every second) until the status is `FINISH`/`DELETED` or the session is not found.
 * Deleting a session that is already gone succeeds.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param options - `wait`, `pollInterval`, `timeout` (default 120 s for the whole deletion), `signal`.
 * @returns The release request id and whether the deletion was confirmed.
 * @throws AgbError `timeout` if the session is still there at the deadline; `unauthorized`, `network`, ...
 * @example
 * ```ts
 * await deleteSession(client, session)
 * ```
 */
export async function deleteSession(client: Client, session: SessionRef, options?: DeleteSessionOptions): Promise<DeleteSessionResult> {
  clientOf(client)
  const id = sessionId(session)
  const o = requestOptions(options) ?? {}
  if (o.wait !== undefined && typeof o.wait !== 'boolean') invalid('options.wait', 'a boolean')
  positive(o.pollInterval, 'options.pollInterval')
  return withDeadline('deleteSession', o, 120_000, async (call) => {
    const { signal } = call
    const post = (path: string) => send(client, { method: 'POST', path, idempotent: true, body: { sessionId: id } }, call)
    const released = await post('/mcp/releaseSessionAsync')
    if (!released.ok) {
      if (isNotFound(released)) return { requestId: released.requestId, confirmed: true }
      throw envelopeError(released)
    }
    for (const close of socketClosers) close(id)
    if (o.wait === false) return { requestId: released.requestId, confirmed: false }
    let polls = 0
    for (;;) {
      // A transient failure while polling is not a failed deletion: keep polling until the deadline.
      const info = await post('/mcp/getSessionInfo').catch((error: unknown) => {
        if (isAgbError(error) && error.retryable && !signal.aborted) return undefined
        throw error
      })
      if (info && !info.ok && isNotFound(info)) break
      if (info?.ok) {
        const data = info.data as { status?: unknown; Status?: unknown } | undefined
        const status = toText(data?.status ?? data?.Status).toUpperCase()
        if (status === 'FINISH' || status === 'DELETED') break
      }
      // Short first waits: a release usually completes well within a second.
      await pause(Math.min(o.pollInterval ?? 1000, 100 * 2 ** polls++), call, `session ${id} still not deleted`)
    }
    return { requestId: released.requestId, confirmed: true }
  })
}
