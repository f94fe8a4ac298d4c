import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'

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
  /** Image ids createSession accepts. Default `['agb-code-space-1', 'agb-code-space-2']`. */
  images?: string[]
  /** Receives operational lines (warnings, releases). Default: silent. */
  log?: (line: string) => void
}

/** One request as the handler saw it, for tests asserting what a client sent. */
export interface RecordedRequest {
  method: string
  url: string
  /** Header names lower-cased, as the Fetch `Headers` object reports them. */
  headers: Record<string, string>
  body: string
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
  /** Sandbox processes (kernels, shell commands) currently alive across all sessions. */
  sessionProcessCount(): number
  /** Every request seen, oldest first (capped to the most recent 1000). */
  readonly requests: RecordedRequest[]
  /**
   * WebSocket upgrades (session `wsUrl`), used by `serve()`. Not implemented yet: when absent,
   * upgrades are refused.
   */
  handleUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void
  /** Releases every session (killing its processes) and removes the directories it created. */
  close(): Promise<void>
}
