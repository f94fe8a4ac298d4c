import { randomBytes } from 'node:crypto'
import { chmodSync, writeFileSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { LocalConfig } from '../config.ts'
import { createSandbox } from '../sandbox/createSandbox.ts'
import { cleanStale, DATA_DIR_OWNER_FILE } from '../sandbox/limits/cleanStale.ts'
import { createConfinement, handOver } from '../sandbox/limits/createConfinement.ts'
import type { Confinement } from '../sandbox/limits/createConfinement.ts'
import { ownerMark } from '../sandbox/limits/ownerMark.ts'
import { probeConfinement } from '../sandbox/limits/probeConfinement.ts'
import type { Session } from './Session.ts'

/** What createSession asks for. */
export interface NewSession {
  imageId: string
  labels: Record<string, string>
  /** Idle-release timeout; default from the config. */
  idleTimeoutMs?: number
  mcpPolicyId?: string
  persistenceDataList?: unknown[]
}

/** All sessions of one AGB Local and their lifecycle (idle release, lifetime, release). */
export interface SessionStore {
  /** @returns the session, or `null` when maxSessions live sessions already exist. @throws Error when {@link refusal} says why not */
  create(input: NewSession): Promise<Session | null>
  /**
   * Why no session can be created (the start-up probe found the sandbox unsafe or unusable),
   * in one line, or `null`. Resolves once the start-up cleanup and probe are done.
   */
  refusal(): Promise<string | null>
  /** Any known session, RUNNING or recently released (DELETING/FINISH). */
  get(id: string): Session | undefined
  /** A RUNNING session. */
  live(id: string): Session | undefined
  /** All known sessions (for ListSession). */
  all(): Session[]
  /** Resets the idle timer. */
  touch(session: Session): void
  /** Kills the session's processes and removes its files; idempotent. */
  release(session: Session, reason: string): Promise<void>
  liveCount(): number
  /** Live processes of one session or all (kernels, commands, background jobs). */
  processCount(sessionId?: string): number
  /** Calls `listener` when a session starts being released (before its processes are killed). */
  onRelease(listener: (session: Session) => void): void
  closeAll(): Promise<void>
}

/** How long a released session still answers getSessionInfo with FINISH before it is forgotten. */
const FINISHED_RETENTION_MS = 10_000
const MAX_TIMER_MS = 2 ** 31 - 1

function newId(prefix: string, bytes: number): string {
  return prefix + randomBytes(bytes).toString('hex')
}

// The sandbox gets its own tiny user database: the host's /etc/passwd is never exposed.
const PASSWD = 'root:x:0:0:root:/home/user:/bin/bash\nuser:x:1000:1000:user:/home/user:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n'
const GROUP = 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n'

/** Creates the session registry of one AGB Local. */
export function createSessionStore(config: LocalConfig): SessionStore {
  const sessions = new Map<string, Session>()
  const releases = new Map<string, Promise<void>>()
  const sessionsDir = join(config.dataDir, 'sessions')
  const releaseListeners: Array<(session: Session) => void> = []
  const bwrap = config.isolation === 'bwrap'
  if (bwrap) {
    // Sandboxes run as other host users: they must be able to traverse to their root (not list).
    for (const d of [config.dataDir, sessionsDir]) chmodSync(d, 0o711)
  }
  if (config.ownsDataDir) writeFileSync(join(config.dataDir, DATA_DIR_OWNER_FILE), ownerMark())
  // At start: clean what AGB Locals killed without shutting down left behind, then prove with a
  // probe sandbox that sandboxes have no capability. Sessions wait for this; if the probe
  // fails, none is created (one clear line says why) rather than running unconfined.
  const ready = (async () => {
    const cleaned = await cleanStale(sessionsDir)
    if (cleaned) config.log(`AGB Local: removed ${cleaned} session director${cleaned === 1 ? 'y' : 'ies'} left by an AGB Local that was killed`)
    if (bwrap) await probeConfinement(config)
  })()
  ready.catch((e: Error) => config.log(e.message))

  function timer(session: Session, ms: number, fn: () => void): void {
    const t = setTimeout(fn, Math.min(Math.max(ms, 0), MAX_TIMER_MS))
    t.unref() // never keep the host process alive for a sandbox
    session.timers.push(t)
  }

  function armIdle(session: Session): void {
    timer(session, session.lastActivity + session.idleTimeoutMs - Date.now(), () => {
      if (session.status !== 'RUNNING') return
      const idle = session.activeCalls === 0 && Date.now() >= session.lastActivity + session.idleTimeoutMs
      if (idle) void store.release(session, 'idle timeout')
      else armIdle(session)
    })
  }

  async function doRelease(session: Session, reason: string): Promise<void> {
    session.status = 'DELETING'
    for (const listener of releaseListeners) listener(session)
    for (const t of session.timers) clearTimeout(t)
    session.timers = []
    for (const kernel of session.kernels.values()) kernel.shutdown()
    session.kernels.clear()
    // Waits for the processes, so nothing writes into the directory while it is removed.
    await session.sandbox.shutdown().catch((e) => config.log(`AGB Local: stopping the sandbox of ${session.id}: ${e.message}`))
    await session.confinement?.release().catch((e) => config.log(`AGB Local: releasing the limits of ${session.id}: ${e.message}`))
    await rm(session.dir, { recursive: true, force: true, maxRetries: 3 }).catch((e) => config.log(`AGB Local: could not remove ${session.dir}: ${e.message}`))
    session.status = 'FINISH'
    config.log(`session ${session.id} released (${reason})`)
    setTimeout(() => {
      sessions.delete(session.id)
      releases.delete(session.id)
    }, FINISHED_RETENTION_MS).unref()
  }


  let pending = 0
  async function createReserved(input: Parameters<SessionStore['create']>[0]): Promise<Session> {
      const id = `session-${randomBytes(9).toString('hex')}`
      const dir = join(sessionsDir, id)
      const rootDir = join(dir, 'root')
      const confinement: Confinement | null = bwrap ? await createConfinement(config.limitsPlan, id, dir, rootDir) : null
      try {
        await mkdir(join(rootDir, 'home', 'user'), { recursive: true })
        await mkdir(join(rootDir, 'tmp'), { recursive: true, mode: 0o1777 })
        await mkdir(join(rootDir, 'etc'), { recursive: true })
        await writeFile(join(rootDir, 'etc', 'passwd'), PASSWD)
        await writeFile(join(rootDir, 'etc', 'group'), GROUP)
        await writeFile(join(rootDir, 'etc', 'hostname'), 'agb-sandbox\n')
        await handOver(rootDir, confinement?.uid ?? null)
      } catch (e) {
        await confinement?.release().catch(() => {})
        await rm(dir, { recursive: true, force: true }).catch(() => {})
        throw e
      }
      // The sandbox reads its confinement from this owner object (see spawnInSession).
      const owner = { id, rootDir, confinement: confinement ?? undefined }
      const now = Date.now()
      const session: Session = {
        id,
        imageId: input.imageId,
        token: randomBytes(24).toString('base64url'),
        appInstanceId: newId('ai-', 8),
        resourceId: newId('p-', 8),
        labels: input.labels,
        mcpPolicyId: input.mcpPolicyId,
        persistenceDataList: input.persistenceDataList ?? [],
        status: 'RUNNING',
        createdAt: now,
        lastActivity: now,
        idleTimeoutMs: input.idleTimeoutMs ?? config.defaultIdleTimeoutMs,
        activeCalls: 0,
        dir,
        rootDir,
        sandbox: createSandbox(config, owner),
        confinement,
        kernels: new Map(),
        executionCounts: new Map(),
        timers: [],
      }
      sessions.set(id, session)
      armIdle(session)
      timer(session, config.maxLifetimeMs, () => void store.release(session, 'max lifetime reached'))
      return session
  }

  const store: SessionStore = {
    async create(input) {
      // Reserve the slot before any await: concurrent creates must not all pass the check.
      if (store.liveCount() + pending >= config.maxSessions) return null
      pending++
      try {
        await ready
        return await createReserved(input)
      } finally {
        pending--
      }
    },
    refusal: () => ready.then(() => null, (e: Error) => e.message),
    get: (id) => sessions.get(id),
    live(id) {
      const s = sessions.get(id)
      return s?.status === 'RUNNING' ? s : undefined
    },
    all: () => [...sessions.values()],
    touch(session) {
      session.lastActivity = Date.now()
    },
    release(session, reason) {
      let p = releases.get(session.id)
      if (!p) {
        p = doRelease(session, reason)
        releases.set(session.id, p)
      }
      return p
    },
    liveCount: () => [...sessions.values()].filter((s) => s.status === 'RUNNING').length,
    processCount: (sessionId) => [...sessions.values()].filter((s) => sessionId === undefined || s.id === sessionId).reduce((n, s) => n + s.sandbox.hostPids().length, 0),
    onRelease(listener) {
      releaseListeners.push(listener)
    },
    async closeAll() {
      await ready.catch(() => {}) // the probe's sandbox is gone before the directory is removed
      await Promise.all([...sessions.values()].map((s) => store.release(s, 'shutdown')))
      sessions.clear()
      releases.clear()
      if (config.ownsDataDir) await rm(config.dataDir, { recursive: true, force: true })
      else await rm(sessionsDir, { recursive: true, force: true })
    },
  }
  return store
}
