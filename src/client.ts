import type { FetchLike, RetryOptions } from './types.ts'
import type { RequestHooks } from './requestHooks.ts'
import { apiKeys } from './_internal/apiKeys.ts'
import { invalid, positive, retryOption, stringRecord } from './_internal/check.ts'

/** The AGB cloud API host. A bare host gets `https://`. */
export const DEFAULT_ENDPOINT = 'https://sdk-api.agb.cloud'

/**
 * A WebSocket constructor that accepts `{ headers }` as its second argument: Deno's, Bun's,
 * Node 22+'s global one, or `ws`'s on Node 20.
 */
export type WebSocketConstructor = new (url: string, options?: { headers?: Record<string, string> }) => unknown

/** Options for {@link createClient}. */
export interface ClientOptions {
  /**
   * Your AGB API key. Required, except with `proxy: true`. Sent only to `endpoint`, never to
   * session hosts or presigned URLs.
   */
  apiKey?: string
  /**
   * `endpoint` is an `agb-micro/proxy` handler (browsers): no API key is sent (the proxy adds
   * it), and `streamCode` streams through the proxy over fetch.
   */
  proxy?: boolean
  /**
   * API base URL. Default `https://sdk-api.agb.cloud`. A bare host gets `https://`; an
   * explicit `http://` (AGB Local) is kept. Trailing slashes are dropped.
   */
  endpoint?: string
  /** The `fetch` to use. Default: the global `fetch`, looked up at call time. */
  fetch?: FetchLike
  /** Default milliseconds each operation may take. Default 60 000. */
  timeout?: number
  /** Extra headers sent with every API request (not to session hosts or presigned URLs). */
  headers?: Record<string, string>
  /** Retry policy (see {@link RetryOptions}). Default 3 attempts for idempotent calls. `false` disables. */
  retry?: RetryOptions | false
  /** Logging hooks receiving redacted request/response summaries: `requestHooks({ onRequest, onResponse })` (a separate import). */
  hooks?: RequestHooks
  /**
   * WebSocket constructor for streaming, for runtimes without a global one (Node 20:
   * `import { WebSocket } from 'ws'`). Default: the global `WebSocket`; on Workers, `fetch`
   * with `Upgrade: websocket`.
   */
  webSocket?: WebSocketConstructor
}

/**
 * A configured client: plain frozen data passed as the first argument of every operation.
 * The API key is not on it at all: the SDK keeps it in a private map, so no inspection,
 * serialisation or copy of the client (`util.inspect` with hidden properties, `JSON.stringify`,
 * `structuredClone`, spreading) can reveal it.
 */
export interface Client {
  /** The API base URL, without a trailing slash. */
  readonly endpoint: string
  /** Default milliseconds each operation may take. */
  readonly timeout: number
  /** The injected `fetch`, if any. */
  readonly fetch?: FetchLike
  /** Extra headers for API requests. */
  readonly headers: Readonly<Record<string, string>>
  /** `true` when `endpoint` is an `agb-micro/proxy` handler. */
  readonly proxy?: boolean
  /** The retry policy, if set. */
  readonly retry?: RetryOptions | false
  /** Logging hooks, if set. */
  readonly hooks?: RequestHooks
  /** The injected WebSocket constructor, if any. */
  readonly webSocket?: WebSocketConstructor
}

/**
 * Creates a client. Nothing is sent: the options are checked and frozen.
 *
 * @param options - API key, endpoint, fetch, default timeout, headers.
 * @returns A frozen {@link Client}.
 * @throws AgbError `invalid_input` when the API key is missing or an option has the wrong type.
 * @example
 * ```ts
 * const client = createClient({ apiKey: env.AGB_API_KEY })
 * ```
 */
/* @__NO_SIDE_EFFECTS__ */
export function createClient(options: ClientOptions): Client {
  const o = options ?? {}
  if (typeof o !== 'object') invalid('options', 'an object')
  // The key's value is never echoed into a message, whatever it is.
  const apiKey = o.apiKey === undefined ? '' : typeof o.apiKey === 'string' ? o.apiKey.trim() : invalid('options.apiKey', 'a string')
  if (!apiKey && !o.proxy) invalid('options.apiKey', 'given (or proxy: true with a proxy endpoint)')
  // Each option's type, by its `typeof`.
  for (const [name, type, what = `a ${type}`] of [['proxy', 'boolean'], ['endpoint', 'string', 'a non-empty string'], ['fetch', 'function'], ['webSocket', 'function'], ['hooks', 'function', 'requestHooks({ onRequest, onResponse })']]) {
    const value = o[name as keyof ClientOptions]
    if (value !== undefined && (typeof value !== type || (value as string).trim?.() === '')) invalid(`options.${name}`, what)
  }
  stringRecord(o.headers, 'options.headers')
  retryOption(o.retry, 'options.retry')
  let endpoint = o.endpoint?.trim() || DEFAULT_ENDPOINT
  // A scheme must be http(s) with a host; a path (`/agb`) is a same-origin proxy in a
  // browser; a bare host gets https://.
  if (!/^\w+:\/\//.test(endpoint) && endpoint[0] !== '/') endpoint = `https://${endpoint}`
  if (endpoint[0] !== '/' && !/^https?:\/\/[^/]/i.test(endpoint)) invalid('options.endpoint', 'an http(s) URL, a host or a path')
  endpoint = endpoint.replace(/\/+$/, '')
  const { apiKey: _key, ...rest } = o
  const client: Client = Object.freeze({ ...rest, endpoint, timeout: positive(o.timeout, 'options.timeout') ?? 60_000, headers: Object.freeze({ ...o.headers }) })
  // Off the object: a getter would still be called by `util.inspect(client, { getters: true })`.
  if (apiKey) apiKeys.set(client, apiKey)
  return client
}
