import type { Client } from '../client.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { clientOf } from '../_internal/check.ts'
import type { Session } from '../types.ts'
import { freezeSession } from '../_internal/toSession.ts'

/**
 * Makes a session handle from an id without any request: the cheapest way for a Worker
 * or lambda to act on a session it stored. The handle has no `linkUrl`, `wsUrl`, token or
 * tools (use `getSession` for those); every operation that only needs the id works.
 *
 * @param client - The client (the handle's `await using` disposal deletes through it).
 * @param id - The session id.
 * @returns A {@link Session} with just the id.
 * @throws AgbError `invalid_input` for an empty id.
 * @example
 * ```ts
 * await using session = attachSession(client, storedId)
 * await runCode(client, session, 'print(1)')
 * ```
 */
export function attachSession(client: Client, id: string): Session {
  return freezeSession(clientOf(client), { id: sessionId(id), tools: Object.freeze([]) })
}
