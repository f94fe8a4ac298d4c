import type { EventEmitter } from 'node:events'
import type { Readable, Writable } from 'node:stream'
import type { Confinement } from './limits/createConfinement.ts'
import type { SandboxFs } from './SandboxFs.ts'

/** What a sandbox needs of its session: the id (a marker on plain processes), the root directory and its confinement. */
export interface SandboxOwner {
  id: string
  /** Host directory that is the sandbox's `/`. */
  rootDir: string
  /** Its host user, cgroups, disk and rlimits under bubblewrap (a session's); `null` or absent: none. */
  confinement?: Confinement | null
}

/** What to run in a session's sandbox. */
export interface SandboxSpawnOptions {
  /** argv[0]: an absolute path valid inside the sandbox (see findInterpreter), or a name on its PATH. */
  argv: string[]
  /** Working directory as the sandbox sees it. Default `/home/user`. */
  cwd?: string
  /** Added to the sandbox's minimal environment. */
  env?: Record<string, string>
  /** Host directories the program needs bound read-only (interpreters outside /usr). */
  roBinds?: string[]
  /** Give the process a stdin pipe (default: /dev/null). */
  stdin?: boolean
  /** Give the process an fd 3 pipe to write events to ({@link SandboxProcess.events}). */
  events?: boolean
  /**
   * Bytes of each output stream delivered; the rest is counted in {@link SandboxProcess.dropped}
   * only (so a runaway command does not stream gigabytes to the server). Default unlimited.
   */
  cap?: number
}

/**
 * A process of a session, ChildProcess-like. Events: `exit` (code, signal) when it ends;
 * `close` (code, signal) once it ended and all its output was delivered; `error` (Error) when
 * it could not be started (then neither `exit` nor `close` follows).
 */
export interface SandboxProcess extends EventEmitter {
  /** Its pid as the sandbox sees it (`$!`, `os.getpid()`); `undefined` until started. */
  readonly pid: number | undefined
  readonly stdin: Writable | null
  readonly stdout: Readable
  readonly stderr: Readable
  /** fd 3 of the process when spawned with `events: true`. */
  readonly events: Readable | null
  readonly exitCode: number | null
  readonly signalCode: NodeJS.Signals | null
  /** Output bytes not delivered because of `cap` (final at `close`). */
  readonly dropped: { stdout: number; stderr: number }
  /** Signals its whole process group (it leads one; default SIGKILL). */
  kill(signal?: NodeJS.Signals): void
  /** Signals the process alone (e.g. SIGINT to interrupt a kernel). */
  signal(signal: NodeJS.Signals): void
  /**
   * Stops delivering output: background jobs that inherited its pipes keep running and their
   * writes are drained and dropped, never blocked.
   */
  detach(): void
}

/** The one sandbox of a session: every process of the session runs in it. */
export interface Sandbox {
  /** Starts a process in the sandbox (starting the sandbox itself when needed). */
  spawn(options: SandboxSpawnOptions): SandboxProcess
  /** Host pids of the session's live processes (background jobs included; not the sandbox's own helpers). */
  hostPids(): number[]
  /** Kills every process of the session; resolves once they are gone (or after ~2 s). */
  shutdown(): Promise<void>
  /**
   * Stops the running sandbox because it no longer answers (sandboxed code can SIGSTOP its
   * agent): every process of the session dies, and the next operation starts a new sandbox.
   * `reason` goes to the log.
   */
  restart?(reason: string): void
  /**
   * The session's files as the sandbox sees them, every operation performed inside it (so a
   * link swapped in by sandboxed code cannot lead an operation out of the session root).
   * Starts the sandbox when needed; fails once the session is released.
   */
  readonly fs: SandboxFs
}
