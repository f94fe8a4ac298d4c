/**
 * A session, as returned by `createSession` / `getSession`, or just its id. A Worker that
 * stored the id can call `runCode(client, id, code)` without fetching the session first.
 */
export type SessionRef = string | { readonly id: string }

/** Options every operation accepts. */
export interface RequestOptions {
  /** Abort the call. The call rejects with an `AgbError` of code `aborted`. */
  signal?: AbortSignal
  /**
   * Milliseconds the whole call may take, all its HTTP requests included. Defaults to the
   * client's `timeout` unless the operation documents another default. On expiry the call
   * rejects with an `AgbError` of code `timeout`.
   */
  timeout?: number
  /** Retry policy for this call, overriding the client's. `false` disables retries. */
  retry?: RetryOptions | false
}

/**
 * When and how often a failed request is repeated. Only idempotent requests (reads, status,
 * labels, deletes) are retried after a network failure, 408, 425, 429 or 5xx; others only
 * when the connection was refused before anything was sent. `Retry-After` is honoured; the
 * call's `timeout` bounds everything. A caller's abort is never retried.
 */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 3. */
  attempts?: number
  /** Milliseconds of the first backoff ceiling (full jitter, doubling). Default 250. */
  baseDelay?: number
  /** Longest single wait in milliseconds, `Retry-After` included. Default 8000. */
  maxDelay?: number
  /**
   * Milliseconds one HTTP request may take before it is abandoned (and, for idempotent calls,
   * retried while the call's `timeout` allows). Default: none, only the call's `timeout`.
   */
  attemptTimeout?: number
}

/** A request as the `onRequest` hook sees it: no headers, no body, no query (nothing secret). */
export interface RequestEvent {
  method: string
  /** Endpoint and path, without the query. */
  url: string
  attempt: number
}

/** A response (or failure) as the `onResponse` hook sees it. */
export interface ResponseEvent extends RequestEvent {
  /** HTTP status, `0` without a response. */
  status: number
  requestId: string
  durationMs: number
  /** The error code or the service's code when the request failed. */
  error?: string
}

/** Observability hooks: summaries only, never keys, tokens or bodies. */
export interface ClientHooks {
  onRequest?: (event: RequestEvent) => void
  onResponse?: (event: ResponseEvent) => void
}

/** A function with the shape of the global `fetch`; inject one to route or observe requests. */
export type FetchLike = (input: Request | string | URL, init?: RequestInit) => Promise<Response>
