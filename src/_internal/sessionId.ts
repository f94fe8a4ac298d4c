import type { SessionRef } from '../types.ts'
import { nonBlank } from './check.ts'

/** The id of a session reference, rejecting empty ids before any request. */
export const sessionId = (session: SessionRef): string => nonBlank(typeof session === 'string' ? session : session?.id, 'session', 'a session or a non-empty session id')
