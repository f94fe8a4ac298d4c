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
}

/** A function with the shape of the global `fetch`; inject one to route or observe requests. */
export type FetchLike = (input: Request | string | URL, init?: RequestInit) => Promise<Response>
