import { AgbError } from '../errors.ts'
import type { Call } from './deadline.ts'
import { truncate } from './redact.ts'
import { toText } from './toText.ts'

/** The codes and messages of an error and its causes, as one text. */
const causes = (error: unknown): string => {
  let text = ''
  for (let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined, i = 0; e && i < 3; e = e.cause as typeof e, i++) text += ` ${toText(e.code)} ${toText(e.message)}`
  return text
}

/**
 * A failure without an HTTP response, as an `AgbError`: the call's deadline (`timeout`,
 * naming the limit that fired), the caller's abort (`aborted`), else `network` with the
 * runtime's reason. `what` names the request (`POST /mcp`).
 */
export function transportError(error: unknown, call: Call, what: string): AgbError {
  // ofetch's FetchError keeps the request options (headers with the key) reachable through
  // getters: keep only the error it wraps.
  if ((error as Error | undefined)?.name === 'FetchError') error = (error as Error).cause ?? new Error((error as Error).message)
  const { op, signal } = call
  if (signal.aborted) {
    return (signal.reason as Error | undefined)?.name === 'TimeoutError'
      ? new AgbError('timeout', `${op} timed out after ${call.timeout} ms (${what})`, { cause: error, status: 0, retryable: true })
      : new AgbError('aborted', `${op} aborted (${what})`, { cause: signal.reason ?? error, status: 0 })
  }
  const cause = (error as { cause?: { message?: unknown } } | undefined)?.cause
  const reason = error instanceof Error ? toText(cause?.message) || error.message : toText(error)
  // A bare host gets https://; a plain-HTTP server answers the TLS handshake with garbage.
  const hint = /ssl|tls|wrong version number|packet length|EPROTO/i.test(causes(error)) ? ' (if the server speaks plain HTTP, give the endpoint as http://host:port)' : ''
  return new AgbError('network', `${op} network error (${what})${reason && `: ${truncate(reason, 200)}`}${hint}`, { cause: error, status: 0, retryable: true })
}

/** True when the connection was refused: the server provably never saw the request. */
export const refusedBeforeSending = (error: unknown): boolean => /ECONNREFUSED|connection refused|ConnectionRefused/i.test(causes(error))
