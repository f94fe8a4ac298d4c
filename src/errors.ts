/**
 * What went wrong, in one word. Each code says what happened and hints at what to do:
 *
 * | code | meaning |
 * |---|---|
 * | `invalid_input` | An argument was rejected before any request was sent. Fix the call. |
 * | `unauthorized` | The API key (or session token) was refused. |
 * | `session_not_found` | The session does not exist (released, expired or never created). |
 * | `not_found` | Another resource does not exist. |
 * | `rate_limited` | The service asked to slow down (HTTP 429). Retry later. |
 * | `timeout` | The call did not finish within its timeout. |
 * | `aborted` | The caller's `AbortSignal` fired. |
 * | `network` | No HTTP response (connection refused, reset, DNS ...). |
 * | `invalid_response` | The service answered something this SDK cannot read. |
 * | `server_error` | The service failed (HTTP 5xx). Usually worth a retry. |
 * | `api_error` | The service refused the request (`success: false`) for another reason. |
 * | `tool_error` | A sandbox tool reported a failure (`isError: true`). |
 * | `unsupported` | This runtime cannot do it (e.g. a browser WebSocket cannot send the session token). |
 */
export type AgbErrorCode =
  | 'invalid_input'
  | 'unauthorized'
  | 'session_not_found'
  | 'not_found'
  | 'rate_limited'
  | 'timeout'
  | 'aborted'
  | 'network'
  | 'invalid_response'
  | 'server_error'
  | 'api_error'
  | 'tool_error'
  | 'unsupported'

/** Extra facts attached to an {@link AgbError}. */
export interface AgbErrorDetails {
  /** The underlying error (a fetch failure, a validation issue ...). */
  cause?: unknown
  /** The service's request id, when known: quote it to support. */
  requestId?: string
  /** HTTP status of the response (`0` when there was none). */
  status?: number
  /** The service's own error code, e.g. `InvalidSession.NotFound`. */
  apiCode?: string
  /** Whether repeating the same call may succeed. */
  retryable?: boolean
}

const BRAND = Symbol.for('agb-micro.error')

/**
 * The one error type this SDK throws. Failures of the user's code are never thrown: a
 * Python exception is `result.error`, a non-zero exit code is `result.exitCode`.
 *
 * Messages never contain the API key, an authorization header or a session token.
 *
 * @example
 * ```ts
 * try { await runCode(client, id, 'print(1)') }
 * catch (e) { if (isAgbError(e, 'session_not_found')) session = await createSession(client, params) }
 * ```
 */
export class AgbError extends Error {
  override readonly name = 'AgbError'
  /** What went wrong, see {@link AgbErrorCode}. */
  declare readonly code: AgbErrorCode
  /** The service's request id, when known. */
  declare readonly requestId?: string
  /** HTTP status of the response (`0` when there was none). */
  declare readonly status?: number
  /** The service's own error code, e.g. `AccessDenied`. */
  declare readonly apiCode?: string
  /** Whether repeating the same call may succeed. */
  declare readonly retryable: boolean

  constructor(code: AgbErrorCode, message: string, details: AgbErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    if (details.requestId) this.requestId = details.requestId
    if (details.status !== undefined) this.status = details.status
    if (details.apiCode) this.apiCode = details.apiCode
    this.retryable = details.retryable ?? false
    Object.defineProperty(this, BRAND, { value: true })
  }
}

/**
 * Tells whether `error` is an {@link AgbError}, optionally with a given code. Works across
 * duplicate copies of the package (it checks a global brand, not `instanceof`).
 *
 * @param error - Anything caught.
 * @param code - Only match this code.
 * @returns `true` when `error` is an AgbError (with that code).
 * @example
 * ```ts
 * if (isAgbError(e, 'rate_limited')) await sleep(1000)
 * ```
 */
export function isAgbError(error: unknown, code?: AgbErrorCode): error is AgbError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[BRAND] === true &&
    (code === undefined || (error as AgbError).code === code)
  )
}
