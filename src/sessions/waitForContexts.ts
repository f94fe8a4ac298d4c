import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { contextItems } from '../_internal/contextItems.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { pause } from '../_internal/sleep.ts'
import { toText } from '../_internal/toText.ts'
import { api } from '../_internal/transport.ts'
import { positive, requestOptions, clientOf } from '../_internal/check.ts'

/** Options for {@link waitForContexts}. */
export interface WaitForContextsOptions extends RequestOptions {
  /** Milliseconds between status polls. Default 2000. */
  pollInterval?: number
}

/**
 * Waits until every context mounted with `createSession({ contextSyncs: contextSyncs([...]) })` has finished
 * downloading into the sandbox (or failed): polls `GET /sdk/GetContextInfo`. Call it before
 * reading mounted files. (Opt-in: sessions without contexts never pay for it.)
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param options - `pollInterval` (ms, default 2000), `timeout`, `signal`, `retry`.
 * @throws AgbError `timeout` when a download is still running at the deadline; `session_not_found`, ...
 * @example
 * ```ts
 * const session = await createSession(client, { imageId: 'agb-code-space-1', contextSyncs: contextSyncs([{ contextId, path: '/home/user/data' }]) })
 * await waitForContexts(client, session)
 * ```
 */
export async function waitForContexts(client: Client, session: SessionRef, options?: WaitForContextsOptions): Promise<void> {
  const id = sessionId(session)
  const o = requestOptions(options) ?? {}
  positive(o.pollInterval, 'options.pollInterval')
  return withDeadline('waitForContexts', o, clientOf(client).timeout, async (call) => {
    for (;;) {
      const info = await api(client, { method: 'GET', path: '/sdk/GetContextInfo', idempotent: true, query: { sessionId: id } }, call)
      if (!contextItems(info).some((i) => !/^(success|failed)$/i.test(toText(i.status)))) return
      await pause(o.pollInterval ?? 2000, call, 'waiting for context sync')
    }
  })
}
