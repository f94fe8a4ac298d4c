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

/** Languages the sandbox runs. */
export type Language = 'python' | 'javascript' | 'java' | 'r'

/** Other names accepted for a {@link Language} (case-insensitive): `py`, `python3` → python; `js`, `node`, `nodejs` → javascript. */
export type LanguageAlias = 'py' | 'python3' | 'js' | 'node' | 'nodejs'

/** What identifies a background process: plain data, safe to store and pass between invocations. */
export interface ProcessData {
  sessionId: string
  /** Process id (and process group id) in the sandbox. */
  pid: number
  /** Sandbox directory holding `stdout`, `stderr` and, once finished, `exit`. */
  dir: string
}

/** A chunk of a background process's output. */
export interface OutputChunk {
  stream: 'stdout' | 'stderr'
  text: string
  /** Byte offset in that stream after this chunk: pass it back to resume reading later. */
  offset: number
}

/** Options for {@link ProcessHandle.output}. */
export interface OutputOptions {
  /** Resume stdout from this byte offset. Default 0. */
  stdoutOffset?: number
  /** Resume stderr from this byte offset. Default 0. */
  stderrOffset?: number
  /** Milliseconds between polls while the process runs. Default 250. */
  interval?: number
  /** Stop tailing (the stream ends quietly; the process keeps running). */
  signal?: AbortSignal
}

/** A background process started by `spawn` or re-attached by `attachProcess`. */
export interface ProcessHandle extends ProcessData {
  /** Tails stdout and stderr (by offset, through `read_file`) until the process has exited and everything was read. */
  output(options?: OutputOptions): ReadableStream<OutputChunk> & AsyncIterable<OutputChunk>
  /**
   * Waits for the process to exit; resolves with its exit code (`-1` when it was killed
   * from outside and left none). `timeout` defaults to 10 minutes.
   */
  wait(options?: RequestOptions & { interval?: number }): Promise<number>
  /** Sends `signal` (default TERM) to the process group; true when something was signalled. */
  kill(options?: RequestOptions & { signal?: 'TERM' | 'KILL' | 'INT' | 'HUP' }): Promise<boolean>
  /** The plain data to store for `attachProcess`. */
  toJSON(): ProcessData
}

/** A tool available in a session and the MCP server that hosts it. */
export interface SessionTool {
  name: string
  server: string
}

/**
 * A live session handle. Pass it (or just its `id`) to every session operation. It is
 * plain frozen data; `await using session = await createSession(...)` deletes the session
 * when the block exits (`Symbol.asyncDispose`).
 */
export interface Session extends AsyncDisposable {
  /** The session id. */
  readonly id: string
  /** The image the session was created from, when known. */
  readonly imageId?: string
  /** Browser-viewable URL of the environment (valid about 30 minutes), when the image has one. */
  readonly resourceUrl?: string
  /** Session host for direct tool calls, when the image has one. */
  readonly linkUrl?: string
  /** Session WebSocket URL for streaming, when the image has one. */
  readonly wsUrl?: string
  /** Session access token for `linkUrl` / `wsUrl` (non-enumerable: never logged or serialised). */
  readonly token?: string
  /** Tools available in the session (empty when unknown, e.g. from `attachSession`). */
  readonly tools: readonly SessionTool[]
  /** Status (`RUNNING` ...) when the handle came from `getSession`. */
  readonly status?: string
}

/** One output of a code run, by MIME kind. */
export interface ExecutionResult {
  /** `text/plain`: for a final expression, its repr. */
  text?: string
  html?: string
  markdown?: string
  /** Base64 PNG. */
  png?: string
  /** Base64 JPEG. */
  jpeg?: string
  svg?: string
  json?: unknown
  latex?: string
  /** Vega-Lite chart spec. */
  chart?: unknown
  /** The value of the last expression (as opposed to a displayed output). */
  isMainResult: boolean
}

/** A failure of the user's code: an exception in the sandbox. */
export interface ExecutionError {
  name: string
  value: string
  traceback: string
}

/** What `stat` returns. Fields the service does not report are absent. */
export interface FileInfo {
  name?: string
  path?: string
  /** Bytes. */
  size: number
  isDirectory: boolean
  modTime?: string
  mode?: string
  owner?: string
  group?: string
}
