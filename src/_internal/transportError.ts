import { AgbError } from '../errors.ts'
import type { Call } from './deadline.ts'
import { truncate } from './redact.ts'
import { toText } from './toText.ts'

const isTimeout = (reason: unknown) => (reason as { name?: unknown } | undefined)?.name === 'TimeoutError'

/**
 * A failure without an HTTP response, as an `AgbError`: the call's deadline (`timeout`,
 * naming the limit that fired), the caller's abort (`aborted`), else `network` with the
 * runtime's reason. `what` names the request (`[POST /mcp]`).
 */
export function transportError(error: unknown, call: Call, what: string): AgbError {
  // ofetch's FetchError keeps the request options (headers with the key) reachable through
  // getters: keep only the error it wraps.
  if ((error as { name?: unknown } | undefined)?.name === 'FetchError') error = (error as Error).cause ?? new Error((error as Error).message)
  const { op, signal } = call
  if (signal.aborted) {
    return isTimeout(signal.reason)
      ? new AgbError('timeout', `${op} timed out after ${call.timeout} ms (${what})`, { cause: error, status: 0, retryable: true })
      : new AgbError('aborted', `${op} aborted (${what})`, { cause: signal.reason ?? error, status: 0 })
  }
  const cause = (error as { cause?: { message?: unknown; code?: unknown } } | undefined)?.cause
  const reason = error instanceof Error ? toText(cause?.message) || error.message : toText(error)
  // A bare host gets https://; a plain-HTTP server answers the TLS handshake with garbage.
  const tls = /ssl|tls|wrong version number|packet length|EPROTO/i.test(`${reason} ${toText(cause?.code)}`)
  const hint = tls ? ' (if the server speaks plain HTTP, give the endpoint as http://host:port)' : ''
  return new AgbError('network', `${op} network error (${what})${reason ? `: ${truncate(reason, 200)}` : ''}${hint}`, { cause: error, status: 0, retryable: true })
}

/** An attempt abandoned at `retry.attemptTimeout` (the call's own deadline had not passed). */
export const attemptTimeoutError = (call: Call, what: string, ms: number, attempt: number): AgbError =>
  new AgbError('timeout', `${call.op} timed out after ${ms} ms (${what}, retry.attemptTimeout, attempt ${attempt})`, { status: 0, retryable: true })

/** True when the connection was refused: the server provably never saw the request. */
export function refusedBeforeSending(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } } | undefined
  const all = [e?.code, e?.message, e?.cause?.code, e?.cause?.message, e?.cause?.cause?.code, e?.cause?.cause?.message].map(toText).join(' ')
  return /ECONNREFUSED|connection refused|ConnectionRefused/i.test(all)
}
