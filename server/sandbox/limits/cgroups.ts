import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SessionLimits, TotalLimits } from './resolveLimits.ts'

/** Where AGB Local can create per-session cgroups, or why it cannot. */
export type CgroupSupport =
  | { version: 1; memory: string | null; pids: string | null; cpu: string | null }
  | { version: 2; base: string }
  | { version: null; reason: string }

/** One session's cgroups: the `cgroup.procs` files a launcher joins, and their state. */
export interface SessionCgroup {
  /** `cgroup.procs` files a process writes its pid to, before exec'ing the sandbox. */
  procsFiles: string[]
  /**
   * The cgroup directories and where the sandbox sees them (read-only), as a container does:
   * runtimes size themselves from them (the JVM's heap, Node's), and code can read its limits.
   */
  views: Array<{ host: string; sandbox: string }>
  /** OOM kills so far in this cgroup (memory controller), or 0. */
  oomKills(): number
  /** Kills what is left in the cgroups and removes them. */
  remove(): void
}

/** The parent directory below our own cgroup; one child per session. */
const PARENT = 'agb-local'
const CPU_PERIOD_US = 100_000

interface Mount {
  root: string
  point: string
  type: string
  superOptions: string[]
}

function mounts(): Mount[] {
  // mountinfo: id parent major:minor root point options [optional...] - type source superoptions
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((line) => {
    const [left, right = ''] = line.split(' - ')
    const f = left!.split(' ')
    const r = right.split(' ')
    const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(Number.parseInt(o, 8)))
    return { root: unescape(f[3] ?? ''), point: unescape(f[4] ?? ''), type: r[0] ?? '', superOptions: (r[2] ?? '').split(',') }
  })
}

/** Our own cgroup path per v1 controller (`'memory'` → `/a/b`) and the v2 path (key `''`). */
function ownCgroups(): Map<string, string> {
  const own = new Map<string, string>()
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line)
    if (!m) continue
    for (const controller of m[1]!.split(',')) own.set(controller, m[2]!)
  }
  return own
}

/** Host directory of our own cgroup in a hierarchy mounted at `mount` (whose root may be a sub-path). */
function ownDir(mount: Mount, path: string): string | null {
  if (mount.root !== '/' && !path.startsWith(mount.root)) return null
  return join(mount.point, mount.root === '/' ? path : path.slice(mount.root.length))
}

function canCreateBelow(dir: string): boolean {
  const probe = join(dir, `${PARENT}-probe-${process.pid}`)
  try {
    mkdirSync(probe)
    rmdirSync(probe)
    return true
  } catch {
    return false
  }
}

/**
 * Finds where per-session cgroups can live: below our own cgroup (so limits set on AGB Local
 * itself still bound its sessions) in cgroup v1 hierarchies for memory, pids and cpu, or in
 * the v2 hierarchy when its controllers are available there. Needs write access (root, or a
 * delegated v2 subtree).
 */
export function detectCgroups(): CgroupSupport {
  if (process.platform !== 'linux') return { version: null, reason: 'cgroups exist on Linux only' }
  let all: Mount[]
  let own: Map<string, string>
  try {
    all = mounts()
    own = ownCgroups()
  } catch (e) {
    return { version: null, reason: `cannot read /proc: ${(e as Error).message}` }
  }
  const v1: Record<'memory' | 'pids' | 'cpu', string | null> = { memory: null, pids: null, cpu: null }
  for (const controller of ['memory', 'pids', 'cpu'] as const) {
    const mount = all.find((m) => m.type === 'cgroup' && m.superOptions.includes(controller))
    const path = own.get(controller)
    const dir = mount && path !== undefined ? ownDir(mount, path) : null
    if (dir && canCreateBelow(dir)) v1[controller] = dir
  }
  if (v1.memory || v1.pids || v1.cpu) return { version: 1, ...v1 }
  const unified = all.find((m) => m.type === 'cgroup2')
  const path = own.get('')
  const dir = unified && path !== undefined ? ownDir(unified, path) : null
  if (!dir) return { version: null, reason: 'no writable cgroup hierarchy with the memory, pids or cpu controller' }
  let available: string[] = []
  try {
    available = readFileSync(join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/)
  } catch {}
  const wanted = ['memory', 'pids', 'cpu']
  const missing = wanted.filter((c) => !available.includes(c))
  if (missing.length) return { version: null, reason: `cgroup v2 at ${dir} does not offer the ${missing.join(', ')} controller(s)` }
  // cgroup v2: controllers are enabled for a subtree by its parent, and a non-root cgroup with
  // processes of its own cannot enable any (the "no internal processes" rule). We never move
  // AGB Local itself; where that rule bites, the rlimit fallback applies.
  const base = join(dir, PARENT)
  try {
    mkdirSync(base, { recursive: true })
    const enable = (at: string) => writeFileSync(join(at, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '))
    enable(dir)
    enable(base)
  } catch (e) {
    try {
      rmdirSync(base)
    } catch {}
    return { version: null, reason: `cgroup v2 at ${dir}: cannot enable controllers for a subtree (${(e as Error).message})` }
  }
  return { version: 2, base }
}

function write(dir: string, file: string, value: string | number): void {
  writeFileSync(join(dir, file), String(value))
}

function oomKillCount(file: string): number {
  try {
    return Number(/^oom_kill (\d+)$/m.exec(readFileSync(file, 'utf8'))?.[1] ?? 0)
  } catch {
    return 0
  }
}

/** SIGKILLs every process in cgroup `dir`, then removes it (and retries while they exit). */
export function removeCgroupDir(dir: string): void {
  if (!existsSync(dir)) return
  for (let attempt = 0; attempt < 50; attempt++) {
    let pids: number[] = []
    try {
      pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)
    } catch {}
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
    try {
      rmdirSync(dir)
      return
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return
      if (code !== 'EBUSY') throw e
    }
    // Killed processes leave the cgroup once the kernel reaped them: wait a few ms.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
  }
  throw new Error(`cgroup ${dir} is still busy`)
}

/**
 * Creates the cgroups of one session with its memory, process and CPU limits, below this AGB
 * Local's own parent (`agb-local/<instance>/<name>`), whose memory and pids limits bound all
 * its sessions together. The parent's limits are (re)written once the session's cgroup exists
 * below it, so a concurrent release cannot remove the parent in between and have it come back
 * unlimited.
 * @throws Error when a cgroup cannot be created or a limit cannot be set (the session must not
 * start unconfined)
 */
export function createSessionCgroup(support: CgroupSupport, name: string, limits: SessionLimits, totals: TotalLimits, instance: string): SessionCgroup {
  const dirs: string[] = []
  const procsFiles: string[] = []
  const views: Array<{ host: string; sandbox: string }> = []
  let oomFile: string | null = null
  const remove = () => {
    for (const dir of dirs) {
      removeCgroupDir(dir)
      // The parents go too once empty: nothing of ours stays in a cgroup we were put in. (v2
      // keeps agb-local: its subtree_control was set up once, at start.)
      for (const parent of support.version === 1 ? [join(dir, '..'), join(dir, '..', '..')] : [join(dir, '..')]) {
        try {
          rmdirSync(parent)
        } catch {}
      }
    }
  }
  /** mkdir -p, again if a concurrent release removed the empty parent in between. */
  const mkdirRetry = (dir: string) => {
    try {
      mkdirSync(dir, { recursive: true })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      mkdirSync(dir, { recursive: true })
    }
  }
  try {
    if (support.version === 1) {
      const make = (root: string | null, controller: string) => {
        if (!root) return null
        const dir = join(root, PARENT, instance, name)
        mkdirRetry(dir)
        dirs.push(dir)
        procsFiles.push(join(dir, 'cgroup.procs'))
        views.push({ host: dir, sandbox: `/sys/fs/cgroup/${controller}` })
        return dir
      }
      const memory = limits.memory !== null || totals.memory !== null ? make(support.memory, 'memory') : null
      if (memory && totals.memory !== null) {
        const parent = join(memory, '..')
        write(parent, 'memory.limit_in_bytes', totals.memory)
        if (existsSync(join(parent, 'memory.memsw.limit_in_bytes'))) write(parent, 'memory.memsw.limit_in_bytes', totals.memory)
      }
      if (memory && limits.memory !== null) {
        write(memory, 'memory.limit_in_bytes', limits.memory!)
        // Without this, a swap-enabled host would let the session use swap beyond the limit.
        if (existsSync(join(memory, 'memory.memsw.limit_in_bytes'))) write(memory, 'memory.memsw.limit_in_bytes', limits.memory!)
        oomFile = join(memory, 'memory.oom_control')
      }
      const pids = limits.processes !== null || totals.processes !== null ? make(support.pids, 'pids') : null
      if (pids && totals.processes !== null) write(join(pids, '..'), 'pids.max', totals.processes)
      if (pids && limits.processes !== null) write(pids, 'pids.max', limits.processes)
      const cpu = limits.cpus !== null ? make(support.cpu, 'cpu') : null
      if (cpu) {
        write(cpu, 'cpu.cfs_period_us', CPU_PERIOD_US)
        write(cpu, 'cpu.cfs_quota_us', Math.max(1000, Math.round(limits.cpus! * CPU_PERIOD_US)))
      }
    } else if (support.version === 2) {
      const parent = join(support.base, instance)
      const dir = join(parent, name)
      mkdirRetry(dir)
      dirs.push(dir)
      // Controllers reach the session's cgroup only when its parent enables them.
      write(parent, 'cgroup.subtree_control', '+memory +pids +cpu')
      if (totals.memory !== null) {
        write(parent, 'memory.max', totals.memory)
        if (existsSync(join(parent, 'memory.swap.max'))) write(parent, 'memory.swap.max', 0)
      }
      if (totals.processes !== null) write(parent, 'pids.max', totals.processes)
      procsFiles.push(join(dir, 'cgroup.procs'))
      views.push({ host: dir, sandbox: '/sys/fs/cgroup' })
      if (limits.memory !== null) {
        write(dir, 'memory.max', limits.memory)
        if (existsSync(join(dir, 'memory.swap.max'))) write(dir, 'memory.swap.max', 0)
        oomFile = join(dir, 'memory.events')
      }
      if (limits.processes !== null) write(dir, 'pids.max', limits.processes)
      if (limits.cpus !== null) write(dir, 'cpu.max', `${Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US))} ${CPU_PERIOD_US}`)
    }
  } catch (e) {
    try {
      remove()
    } catch {}
    throw new Error(`AGB Local: cannot set up the cgroup of ${name}: ${(e as Error).message}`)
  }
  return { procsFiles, views, oomKills: () => (oomFile ? oomKillCount(oomFile) : 0), remove }
}
