import type { ClientHooks, FetchLike, RetryOptions } from './types.ts'
import { AgbError } from './errors.ts'
import { apiKeys } from './_internal/apiKeys.ts'
import { invalid, positive, retryOption, stringRecord } from './_internal/check.ts'

/** The AGB cloud API host. A bare host gets `https://`. */
export const DEFAULT_ENDPOINT = 'https://sdk-api.agb.cloud'

const isFn = (f: unknown) => f === undefined || typeof f === 'function'

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
  /** Logging hooks receiving redacted request/response summaries. */
  hooks?: ClientHooks
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
  readonly hooks?: ClientHooks
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
  if (typeof o !== 'object') invalid('options', 'options must be an object')
  // The key's value is never echoed into a message, whatever it is.
  const apiKey = typeof o.apiKey === 'string' ? o.apiKey.trim() : o.apiKey === undefined ? '' : invalid('options.apiKey', 'apiKey must be a string')
  if (!apiKey && !o.proxy) throw new AgbError('invalid_input', 'Invalid options.apiKey: apiKey is required (or proxy: true with a proxy endpoint)')
  if (o.proxy !== undefined && typeof o.proxy !== 'boolean') invalid('options.proxy', 'proxy must be a boolean')
  if (o.endpoint !== undefined && (typeof o.endpoint !== 'string' || !o.endpoint.trim())) invalid('options.endpoint', 'endpoint must be a non-empty string')
  if (!isFn(o.fetch)) invalid('options.fetch', 'fetch must be a function')
  if (!isFn(o.webSocket)) invalid('options.webSocket', 'webSocket must be a WebSocket constructor')
  if (o.hooks !== undefined && (typeof o.hooks !== 'object' || o.hooks === null)) invalid('options.hooks', 'hooks must be an object')
  stringRecord(o.headers, 'options.headers')
  retryOption(o.retry, 'options.retry')
  let endpoint = (o.endpoint?.trim() ?? DEFAULT_ENDPOINT).replace(/\/+$/, '')
  // A path (`/agb`) is a same-origin proxy in a browser; a bare host gets https://.
  if (!/^https?:\/\//i.test(endpoint) && !endpoint.startsWith('/')) endpoint = `https://${endpoint}`
  const client = {
    endpoint,
    timeout: positive(o.timeout, 'options.timeout') ?? 60_000,
    headers: Object.freeze({ ...o.headers }),
    ...(o.fetch ? { fetch: o.fetch } : {}),
    ...(o.retry !== undefined ? { retry: o.retry } : {}),
    ...(o.hooks ? { hooks: o.hooks } : {}),
    ...(o.webSocket ? { webSocket: o.webSocket } : {}),
    ...(o.proxy ? { proxy: true } : {}),
  }
  Object.freeze(client)
  // Off the object: a getter would still be called by `util.inspect(client, { getters: true })`.
  if (apiKey) apiKeys.set(client, apiKey)
  return client
}
