import type { Client } from '../client.ts'
import type { Session } from '../types.ts'
import { createSession, type CreateSessionParams } from './createSession.ts'
import { deleteSession, type DeleteSessionOptions } from './deleteSession.ts'
import { invalid } from '../_internal/check.ts'

/**
 * Creates a session, runs `fn` with it, and deletes the session whatever happens: when `fn`
 * returns, throws, or its work is aborted. The pattern of the official guide's
 * `try/finally` and context managers, in one call.
 *
 * If `fn` throws, its error is rethrown and wins over a failed deletion. If `fn` succeeds
 * but the deletion fails, the deletion error is thrown, so a leaked session is never silent.
 *
 * @param client - The client.
 * @param params - What to create (see `createSession`); `signal`/`timeout` apply to the creation;
 *   `delete` holds options for the deletion (e.g. `{ wait: false }` in serverless handlers).
 * @param fn - Your work with the session.
 * @returns What `fn` returns.
 * @throws Whatever `fn` throws; AgbError from creation or deletion.
 * @example
 * ```ts
 * const out = await withSession(client, { imageId: 'agb-code-space-1' }, (s) => runCode(client, s, 'print(1)'))
 * ```
 */
export async function withSession<T>(
  client: Client,
  params: CreateSessionParams & { delete?: DeleteSessionOptions },
  fn: (session: Session) => T | Promise<T>,
): Promise<T> {
  if (typeof fn !== 'function') invalid('fn', 'a function receiving the session')
  const session = await createSession(client, params)
  const options = params.delete
  let result: T
  try {
    result = await fn(session)
  } catch (error) {
    await deleteSession(client, session, options).catch(() => undefined)
    throw error
  }
  await deleteSession(client, session, options)
  return result
}
