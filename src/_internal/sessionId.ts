import type { SessionRef } from '../types.ts'
import { AgbError } from '../errors.ts'

/** The id of a session reference, rejecting empty ids before any request. */
export function sessionId(session: SessionRef): string {
  const id = typeof session === 'string' ? session : session?.id
  if (typeof id !== 'string' || id.trim() === '') {
    throw new AgbError('invalid_input', 'Invalid session: expected a session or a non-empty session id')
  }
  return id.trim()
}
