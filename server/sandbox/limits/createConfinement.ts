import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createSessionCgroup } from './cgroups.ts'
import type { SessionCgroup } from './cgroups.ts'
import { ownerMark } from './ownerMark.ts'
import type { LimitsPlan } from './planLimits.ts'
import { formatBytes } from './resolveLimits.ts'
import { allocateSandboxUid, releaseSandboxUid } from './sandboxUids.ts'
import { createSessionDisk, unmountBelow } from './sessionDisk.ts'

/** File in a session directory naming its owner (see ownerMark) and its cgroups, for stale cleanup. */
export const OWNER_FILE = 'owner.json'

/** A limit mechanism (`disk` image or `cgroups`) failed while preparing a session. */
export class ConfinementError extends Error {
  override readonly name = 'ConfinementError'
  constructor(readonly mechanism: 'disk' | 'cgroups', message: string) {
    super(message)
  }
}

/** What confines one session's sandbox: its host user, cgroups, rlimits and disk. */
export interface Confinement {
  /** Host uid (= gid) the sandbox runs as when AGB Local is root; `null`: AGB Local's own user. */
  uid: number | null
  /** setpriv's path when `uid` is set. */
  setpriv: string
  /** `cgroup.procs` files the launcher joins before exec'ing bubblewrap. */
  cgroupProcs: string[]
  /** The session's cgroup directories, bound read-only into the sandbox under /sys/fs/cgroup. */
  cgroupViews: Array<{ host: string; sandbox: string }>
  /** prlimit and its arguments (rlimit fallbacks), or empty. */
  prlimit: string[]
  /**
   * `'killed: memory limit (2 GiB)'` when the memory cgroup OOM-killed a process since the
   * last call, else `null`: tells a run that died of SIGKILL why.
   */
  memoryKillNote(): string | null
  /** Removes the cgroups, unmounts the disk, frees the uid. Idempotent. */
  release(): Promise<void>
}

/**
 * Prepares a new session directory `dir` with its root `dir/root`: a host uid of its own (root
 * only), the disk image mounted as the root, the cgroups with the session's limits, and
 * `owner.json` recording all of it so a later AGB Local can clean up after a crash. The root,
 * `/home/user`, `/tmp` and `/etc` inside it belong to the sandbox user; the parents are
 * traversable (mode 0711) so bubblewrap, running as that user, can reach the root.
 * @throws Error when any part fails (everything made so far is undone)
 */
export async function createConfinement(plan: LimitsPlan, id: string, dir: string, rootDir: string): Promise<Confinement> {
  let uid: number | null = null
  let cgroup: SessionCgroup | null = null
  let released = false
  const release = async () => {
    if (released) return
    released = true
    try {
      cgroup?.remove()
    } finally {
      await unmountBelow(rootDir)
      if (uid !== null) releaseSandboxUid(uid)
    }
  }
  try {
    if (plan.asRoot) uid = allocateSandboxUid()
    await mkdir(dir, { recursive: true, mode: 0o711 })
    const record = () => writeFile(join(dir, OWNER_FILE), JSON.stringify({ owner: ownerMark(), uid, cgroups: cgroup?.procsFiles.map((f) => join(f, '..')) ?? [] }))
    await record()
    if (plan.disk === 'ext4' && uid !== null && plan.limits.disk !== null) {
      await createSessionDisk(dir, rootDir, plan.limits.disk, uid).catch((e: Error & { stderr?: string }) => {
        const why = e.stderr?.trim().split('\n').pop() || e.message.split('\n')[0]
        throw new ConfinementError('disk', `disk image: ${why}`)
      })
    }
    if (plan.cgroups.version) {
      try {
        cgroup = createSessionCgroup(plan.cgroups, id, plan.limits, plan.totals, plan.instance)
      } catch (e) {
        throw new ConfinementError('cgroups', (e as Error).message)
      }
      await record()
    }
    const oomSeen = { n: cgroup?.oomKills() ?? 0 }
    return {
      uid,
      setpriv: plan.setpriv,
      cgroupProcs: cgroup?.procsFiles ?? [],
      cgroupViews: cgroup?.views ?? [],
      prlimit: plan.rlimits.length ? [plan.prlimit, ...plan.rlimits, '--'] : [],
      memoryKillNote() {
        const n = cgroup?.oomKills() ?? 0
        if (n <= oomSeen.n) return null
        oomSeen.n = n
        return `killed: memory limit (${formatBytes(plan.limits.memory ?? 0)})`
      },
      release,
    }
  } catch (e) {
    await release().catch(() => {})
    await rm(dir, { recursive: true, force: true }).catch(() => {})
    throw e
  }
}

/**
 * Makes the fresh session root usable by the sandbox user: the root itself, `/etc`, `/home`,
 * `/home/user` and `/tmp` (1777) owned by `uid` (bubblewrap creates its mount points there as
 * that user; code and context mounts may create directories such as `/home/data`). Files the
 * host writes stay root-owned, read-only inside.
 */
export async function handOver(rootDir: string, uid: number | null): Promise<void> {
  if (uid === null) return
  for (const sub of ['', 'etc', 'home', 'home/user', 'tmp']) await chown(join(rootDir, sub), uid, uid)
  await chmod(join(rootDir, 'tmp'), 0o1777)
}
