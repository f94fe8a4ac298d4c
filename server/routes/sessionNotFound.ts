import { fail } from '../http/envelope.ts'

/** getSession/getSessionInfo/release/keep-alive on an unknown or released session. */
export function sessionNotFound(requestId: string, message = 'session not found'): Response {
  return fail(requestId, 400, 'InvalidMcpSession.NotFound', message)
}
