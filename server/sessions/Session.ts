import type { Kernel } from '../kernels/createKernel.ts'
import type { Confinement } from '../sandbox/limits/createConfinement.ts'
import type { Sandbox } from '../sandbox/Sandbox.ts'

/** Lifecycle as getSessionInfo reports it. */
export type SessionStatus = 'RUNNING' | 'DELETING' | 'FINISH'

/** Server-side state of one sandbox session. */
export interface Session {
  id: string
  imageId: string
  /** Secret for the session hosts (linkUrl, wsUrl): `X-Access-Token`. */
  token: string
  appInstanceId: string
  resourceId: string
  labels: Record<string, string>
  mcpPolicyId: string | undefined
  /** Accepted and stored; mounted by the context feature (phase 2). */
  persistenceDataList: unknown[]
  status: SessionStatus
  createdAt: number
  lastActivity: number
  idleTimeoutMs: number
  /** Tool calls in flight: a session is never idle while one runs. */
  activeCalls: number
  /** dataDir/sessions/<id>; `rootDir` (its `root/`) is the sandbox's `/`. */
  dir: string
  rootDir: string
  /** The session's one persistent sandbox: every process of the session runs in it. */
  sandbox: Sandbox
  /**
   * Its host user, cgroups (limits), disk and rlimits under bubblewrap; `null` with
   * isolation `none`. `memoryKillNote()` says when the memory limit killed a process.
   */
  confinement: Confinement | null
  /** Long-lived REPL drivers by language. */
  kernels: Map<string, Kernel>
  /** run_code execution counters by language (survive kernel restarts). */
  executionCounts: Map<string, number>
  timers: NodeJS.Timeout[]
}
