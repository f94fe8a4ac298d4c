import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { LimitsOption } from './sandbox/limits/resolveLimits.ts'
import type { LocalOss } from './storage/LocalOss.ts'

/** How session processes are confined. */
export type Isolation = 'auto' | 'bwrap' | 'none'

/** Options of {@link createAgbLocal}. Every field is optional. */
export interface AgbLocalOptions {
  /** Bearer key every API route requires. Default: a generated `akm-local-<hex>`. */
  apiKey?: string
  /** Where session directories live. Default: a fresh directory under `os.tmpdir()` (removed on close). */
  dataDir?: string
  /** `auto` (default) uses bubblewrap when it works, else plain processes with one warning. */
  isolation?: Isolation
  /** Share the host network with sandboxes. Default `true` (like the cloud's sandboxes). */
  network?: boolean
  /** Maximum concurrent live sessions. Default 50. */
  maxSessions?: number
  /** Idle-release timeout in seconds when createSession sends none. Default 300. */
  defaultIdleTimeout?: number
  /** Hard lifetime of a session in seconds. Default 1800. */
  maxLifetime?: number
  /**
   * Image ids createSession accepts besides the documented ones (`agb-code-space-1`,
   * `agb-code-space-2`, `agb-browser-use-1`, `agb-computer-use-ubuntu-2204`, always accepted).
   * An id containing `browser` gets a browser like `agb-browser-use-1`.
   */
  images?: string[]
  /** Request bodies larger than this get HTTP 413 with the error envelope. Default 20 MiB. */
  maxBodyBytes?: number
  /**
   * Output kept per stream (stdout, stderr) of one `run_code` or `shell` call; the rest is
   * dropped and a `…[truncated N bytes]` marker line appended. Default 1 MiB.
   */
  maxOutputBytes?: number
  /**
   * Rich results (images, HTML, `display()` output…) kept per `run_code` call, all together; later
   * results are dropped and one `text/plain` result says how many. Default 32 MiB.
   */
  maxResultBytes?: number
  /** Bodies in {@link AgbLocal.requests} are cut to this many bytes (with a marker). Default 4096. */
  recordBodyLimit?: number
  /**
   * Resources of each session (all its processes together): memory (default 2 GiB), processes
   * (512), CPU cores (1) and disk (2 GiB); sizes in bytes or like `'2g'`, `'512m'`. Going over
   * is a result the code sees (MemoryError or "killed: memory limit", fork failing, "No space
   * left on device"). Enforced with cgroups and a disk image per session when AGB Local runs as
   * root, else with rlimits (weaker; a warning says which). `false` turns every limit off.
   * Not applied with `isolation: 'none'`.
   */
  limits?: LimitsOption | false
  /**
   * TCP connections `serve()` keeps open at once, HTTP keep-alive and WebSockets alike. One more
   * is answered HTTP 503 (`Retry-After: 1`) and closed. Default 512 (one client running 200
   * sessions at once was measured using up to 221).
   */
  maxConnections?: number
  /** Open WebSockets per session; one more is refused with HTTP 429 before the handshake. Default 8. */
  maxSocketsPerSession?: number
  /** Open session WebSockets in total; one more is refused with HTTP 503 before the handshake. Default 128. */
  maxSockets?: number
  /**
   * Largest object the embedded store accepts in one PUT (presigned or signed): a larger upload
   * gets HTTP 413 `EntityTooLarge` and nothing is stored. Default 1 GiB.
   */
  maxObjectBytes?: number
  /**
   * Seconds a client of `serve()` has to send a request's headers, and the longest pause allowed
   * between two parts of a body AGB Local is reading. A slower sender gets HTTP 408 and its
   * connection is closed. Default 30. A client that takes none of its answer for this long
   * also has its connection closed.
   */
  requestTimeout?: number
  /**
   * Bytes of answers `serve()` holds for clients that have not read them yet, over all
   * connections: past it, connections are closed (the one whose client has gone longest
   * without reading first) until the total is under it again, so clients that never read their
   * answers cannot fill AGB Local's memory. Keep it well above the largest answer (a `read_file` of a
   * 31 MiB file answers about 32 MiB). Default 256 MiB.
   */
  maxUnsentBytes?: number
  /**
   * Host names `serve()` answers besides the loopback ones (`localhost`, `*.localhost`,
   * `127.0.0.1`, any `127.x.x.x`, `[::1]`), which are always allowed: a request whose `Host`
   * header names anything else gets HTTP 421, so a web page cannot reach AGB Local through a
   * DNS name it controls (DNS rebinding). An entry is a name or IP address without port
   * (case-insensitive); a leading dot (`.example.test`) allows the name and all its subdomains. Serving on
   * `0.0.0.0`, list the names and addresses clients use to reach this machine. Default `[]`.
   */
  allowedHosts?: string[]
  /**
   * Whether `serve()` takes calls from AGB Local's own sandboxes. Default `false`: when AGB Local
   * runs as root each sandbox is a host user of its own (uid 2^30 and up), and a connection from
   * such a user is answered HTTP 403 `AccessDenied` whatever key it shows, the API, session
   * links, WebSockets and the console alike, and is not counted in `maxConnections`. `true`
   * lets sandboxed code call the API with the key (then give AGB Local a secret `apiKey`);
   * each sandbox may still hold only 16 connections. Not root, sandboxes run as AGB Local's own
   * user and cannot be told apart (a warning says so at start).
   */
  allowSandboxCallers?: boolean
  /** Receives operational lines (warnings, releases). Default: silent. */
  log?: (line: string) => void
  /**
   * The web console at `/console/` (`/` redirects there): live sessions, every API and tool
   * call, processes, files, resource use, faults. Reached through a one-time sign-in link from
   * {@link AgbLocal.consoleLink}. `false` turns it off (the paths then answer like unknown API paths). Default `true`.
   */
  console?: boolean
}

/** What an injected fault does to a matching request (see {@link Faults.add}). */
export type FaultKind =
  | 'status'
  | 'retry-after'
  | 'malformed-json'
  | 'html'
  | 'empty'
  | 'envelope-failure'
  | 'tool-error'
  | 'schema'
  | 'hang'
  | 'drop'
  | 'slow-drip'
  | 'lost-answer'

/**
 * One injected fault. Matches requests by `route` (exact path such as `/mcp/createSession`
 * or `/mcp`; a trailing `*` matches a prefix, e.g. `/link/*`) and/or `tool` (the tool name of
 * a `/mcp` or linkUrl `callTool` request); with neither, every request matches (except CORS
 * preflights). Applied to the next `times` matching requests, before authentication.
 */
export interface FaultSpec {
  route?: string
  tool?: string
  /**
   * - `status`: HTTP `status` (default 500) with a failure envelope;
   * - `retry-after`: HTTP `status` (default 429) with a `Retry-After: <retryAfter>` header and a `Throttling` envelope;
   * - `malformed-json`: HTTP `status` (default 200), JSON content type, truncated JSON body;
   * - `html`: HTTP `status` (default 502), an HTML error page (as a proxy would send);
   * - `empty`: HTTP `status` (default 200), empty body;
   * - `envelope-failure`: HTTP 200, `{success:false, code, message, httpStatusCode: status ?? 500}`;
   * - `tool-error`: HTTP 200, OK envelope, `data: {isError: true, content: [{type:'text', text: message}]}`
   *   (linkUrl route: `{data: "<JSON {result}>"}`);
   * - `schema`: HTTP 200, `success: true` but `data` of a type no endpoint returns (a number);
   * - `hang`: never answers; the request rejects when its signal aborts (over `serve()`: when the
   *   client disconnects) or when the AgbLocal is closed;
   * - `drop`: over `serve()` the connection is destroyed without a response; through
   *   `handler`/`fetch` the call rejects with a `TypeError('fetch failed')` as fetch does;
   * - `slow-drip`: the real response, its body sent one byte every `intervalMs`;
   * - `lost-answer`: the request TAKES EFFECT (the session is created, the file written), then
   *   its answer is lost as `lostAs` says: `drop` (default), `hang`, `status` (`status`, default
   *   500) or `malformed-json` — "it happened, but the caller cannot know".
   */
  kind: FaultKind
  status?: number
  /** Seconds, for `retry-after`. Default 1. */
  retryAfter?: number
  /** How many matching requests get the fault. Default 1; `Infinity` for all. */
  times?: number
  /** Envelope `code` for `status`/`envelope-failure`. */
  code?: string
  /** Envelope `message` (or tool error text for `tool-error`). */
  message?: string
  /** Milliseconds between bytes for `slow-drip`. Default 10. */
  intervalMs?: number
  /** How a `lost-answer` fault loses the answer after the request took effect. Default `drop`. */
  lostAs?: 'drop' | 'hang' | 'status' | 'malformed-json'
}

/** Fault injection for tests: make chosen routes or tools fail a chosen number of times. */
export interface Faults {
  /** Queues a fault; the first queued fault that matches a request is used. @throws TypeError on an invalid spec */
  add(spec: FaultSpec): void
  /** Removes every queued fault (requests already hanging keep hanging). */
  clear(): void
  /** Uses left across all queued faults (`Infinity` when one is unlimited). */
  pending(): number
}

/** One request as the handler saw it, for tests asserting what a client sent. */
export interface RecordedRequest {
  method: string
  url: string
  /** Header names lower-cased, as the Fetch `Headers` object reports them. */
  headers: Record<string, string>
  /** The body text, cut to `recordBodyLimit` bytes plus a `…[truncated N bytes]` marker. */
  body: string
}

/** What `serve()` enforces on connections: {@link AgbLocalOptions} with defaults applied. */
export interface ServePolicy {
  /** See {@link AgbLocalOptions.maxConnections}. */
  readonly maxConnections: number
  /** See {@link AgbLocalOptions.requestTimeout}, in milliseconds. */
  readonly requestTimeoutMs: number
  /** See {@link AgbLocalOptions.maxUnsentBytes}. Default 256 MiB. */
  readonly maxUnsentBytes?: number
  /** See {@link AgbLocalOptions.allowedHosts}, lower-cased. */
  readonly allowedHosts: readonly string[]
  /** See {@link AgbLocalOptions.allowSandboxCallers}. Default `false`. */
  readonly allowSandboxCallers?: boolean
  /**
   * Idle keep-alive connections are closed after this many ms (Node adds 1 s); answers always
   * advertise `Keep-Alive: timeout=5`, so clients let go well before. Default 15000.
   */
  readonly keepAliveTimeoutMs?: number
}

/** A running AGB Local instance. */
export interface AgbLocal {
  readonly apiKey: string
  /** Web-standard handler: all of AGB Local's HTTP API. */
  handler: (req: Request) => Promise<Response>
  /** `handler(new Request(input, init))`: inject as `fetch` into a client. */
  fetch: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>
  /** Sessions currently RUNNING. */
  liveSessions(): number
  /**
   * Live processes in the sandboxes of all sessions (or of `sessionId`): kernels, shell commands
   * and the background jobs they left running (not the sandbox's own agent). 0 once released.
   */
  sessionProcessCount(sessionId?: string): number
  /** Every request seen, oldest first (capped to the most recent 1000; bodies cut to `recordBodyLimit`). */
  readonly requests: RecordedRequest[]
  /** Fault injection for tests (429, 5xx, malformed bodies, hangs, dropped connections ...). */
  readonly faults: Faults
  /** The embedded S3-compatible object store: endpoint, credentials, presigned URLs. */
  readonly oss: LocalOss
  /**
   * WebSocket upgrades (session `wsUrl`, the streaming protocol), used by `serve()`: `/ws/<sessionId>` with
   * header `X-Access-Token: <session token>` (else HTTP 401; unknown session 404). Streams
   * `run_code`; the injected `fetch` has no sockets.
   */
  handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void
  /** What `serve()` enforces on connections (from the options, defaults applied). */
  readonly servePolicy: ServePolicy
  /** Open session WebSockets, of one session or of all. */
  openSockets(sessionId?: string): number
  /**
   * Test hook: destroys the TCP connections of the WebSockets (of one session, or all) without
   * a close frame, as a network failure would. Runs they started are cancelled.
   * @returns how many sockets were dropped
   */
  dropSockets(sessionId?: string): number
  /**
   * A one-time sign-in link to the console on the server at `baseUrl` (e.g. `server.url`):
   * `<baseUrl>/console/login?t=<token>`. Opening it sets an HttpOnly, SameSite=Strict cookie on
   * `/console` and redirects to the console; the link then stops working. Valid 24 hours.
   * @throws Error when the console is off (`console: false`)
   */
  consoleLink(baseUrl: string): string
  /** Closes every WebSocket (1001), releases every session (killing its processes) and removes the directories it created. */
  close(): Promise<void>
}
