import { findExecutable } from '../findExecutable.ts'
import { detectCgroups } from './cgroups.ts'
import type { CgroupSupport } from './cgroups.ts'
import { randomBytes } from 'node:crypto'
import { totalmem } from 'node:os'
import { formatBytes, resolveLimits, resolveTotals } from './resolveLimits.ts'
import type { LimitsOption, SessionLimits, TotalLimits } from './resolveLimits.ts'
import { diskTools } from './sessionDisk.ts'

/** How each limit is enforced for every session of one AGB Local. */
export interface LimitsPlan {
  limits: SessionLimits
  /** Limits of all sessions together: the memory and pids limits of this AGB Local's parent cgroup. */
  totals: TotalLimits
  /**
   * Name of this AGB Local's own parent cgroup (below `agb-local`), which carries `totals`:
   * each AGB Local running side by side has its own.
   */
  instance: string
  /** AGB Local runs as root: each session gets a host uid of its own (setpriv). */
  asRoot: boolean
  /** setpriv's path when `asRoot`. */
  setpriv: string
  cgroups: CgroupSupport
  /** `ext4`: a loop-mounted image per session; `rlimit`: RLIMIT_FSIZE (per file) only. */
  disk: 'ext4' | 'rlimit' | null
  /** prlimit arguments applied to every sandbox (the rlimit fallbacks); empty when none. */
  rlimits: string[]
  /** prlimit's path when `rlimits` is not empty. */
  prlimit: string
  /** The one line printed at start. */
  summary: string
}

function cores(n: number): string {
  return `${n} core${n === 1 ? '' : 's'}`
}

/**
 * Decides how the per-session limits are enforced here: cgroups (v1 or v2) where AGB Local may
 * create them, a disk image per session when root, else rlimits; logs one line with the limits
 * in effect, and one warning line when a fallback is weaker than the cgroup would be.
 * @param isolation only `bwrap` sessions are limited (`none` runs plain host processes)
 * @throws TypeError on an invalid `limits` option
 */
export function planLimits(option: LimitsOption | false | undefined, isolation: 'bwrap' | 'none', log: (line: string) => void): LimitsPlan {
  const limits = resolveLimits(option)
  const totals = resolveTotals(option, limits, totalmem())
  const asRoot = process.getuid?.() === 0
  const setpriv = asRoot ? (findExecutable('setpriv', `${process.env.PATH ?? ''}:/usr/bin:/bin`) ?? '') : ''
  const off = Object.values(limits).every((v) => v === null)
  const plan: LimitsPlan = { limits, totals, instance: `i-${randomBytes(6).toString('hex')}`, asRoot, setpriv, cgroups: { version: null, reason: 'limits are off' }, disk: null, rlimits: [], prlimit: '', summary: '' }
  if (isolation === 'none') {
    plan.summary = "Limits per session: none (isolation 'none': sessions are plain host processes, not isolated and not limited)"
    log(plan.summary)
    return plan
  }
  if (!off && (limits.memory !== null || limits.processes !== null || limits.cpus !== null)) plan.cgroups = detectCgroups()
  if (limits.disk !== null) plan.disk = asRoot && diskTools() ? 'ext4' : 'rlimit'
  const weak = applyRlimits(plan)
  const c = plan.cgroups
  const parts = [
    `memory ${limits.memory === null ? 'unlimited' : formatBytes(limits.memory)}`,
    `processes ${limits.processes ?? 'unlimited'}`,
    `cpu ${limits.cpus === null ? 'unlimited' : cores(limits.cpus)}`,
    `disk ${limits.disk === null ? 'unlimited' : formatBytes(limits.disk)}`,
  ]
  const how = [c.version ? `cgroup v${c.version}` : '', plan.disk === 'ext4' ? 'disk image' : ''].filter(Boolean).join(', ')
  plan.summary = off ? 'Limits per session: none (limits: false)' : `Limits per session: ${parts.join(', ')}${how ? ` (${how})` : ''}`
  log(plan.summary)
  const together = [c.version === 2 || (c.version === 1 && c.memory) ? totals.memory : null, c.version === 2 || (c.version === 1 && c.pids) ? totals.processes : null]
  if (!off && together.some((v) => v !== null)) {
    log(`Limits of all sessions together: memory ${together[0] == null ? 'unlimited' : formatBytes(together[0])}, processes ${together[1] ?? 'unlimited'} (cgroup v${c.version})`)
  } else if (!off) log('WARNING: no limit on all sessions together (it needs cgroups): many sessions at their own limits can exhaust the host')
  if (weak.length) log(`WARNING: ${c.version ? '' : `cgroups unavailable (${c.reason}); `}limits enforced by rlimits instead: ${weak.join(', ')}`)
  return plan
}

/**
 * Sets `plan.rlimits` for every limit no cgroup or disk image enforces.
 * @returns what is enforced weakly (or not at all), for the warning line
 */
function applyRlimits(plan: LimitsPlan): string[] {
  const { limits, asRoot } = plan
  const c = plan.cgroups
  const byCgroup = (controller: 'memory' | 'pids' | 'cpu') => c.version === 2 || (c.version === 1 && c[controller] !== null)
  const weak: string[] = []
  const rlimits: string[] = []
  if (limits.memory !== null && !byCgroup('memory')) {
    rlimits.push(`--data=${limits.memory}`)
    weak.push('memory per process (RLIMIT_DATA)')
  }
  if (limits.processes !== null && !byCgroup('pids')) {
    rlimits.push(`--nproc=${limits.processes}`)
    weak.push(asRoot ? 'processes per session uid (RLIMIT_NPROC)' : 'processes per host user, all sessions together (RLIMIT_NPROC)')
  }
  if (limits.cpus !== null && !byCgroup('cpu')) weak.push('cpu NOT limited')
  if (plan.disk === 'rlimit' && limits.disk !== null) {
    rlimits.push(`--fsize=${limits.disk}`)
    weak.push('disk per file (RLIMIT_FSIZE)')
  }
  plan.rlimits = []
  if (rlimits.length) {
    plan.prlimit ||= findExecutable('prlimit', `${process.env.PATH ?? ''}:/usr/bin:/bin`) ?? ''
    if (plan.prlimit) plan.rlimits = rlimits
    else weak.push('prlimit not found: rlimits NOT applied')
  }
  return weak
}

/**
 * Gives up a mechanism the start-up probe found unusable here (a container without loop
 * devices, a cgroup hierarchy that refuses a limit): its limits fall back to rlimits, and one
 * warning line says so. Sessions are then created with the weaker limits rather than refused.
 */
export function fallBack(plan: LimitsPlan, mechanism: 'disk' | 'cgroups', reason: string, log: (line: string) => void): void {
  if (mechanism === 'disk') plan.disk = 'rlimit'
  else plan.cgroups = { version: null, reason }
  const weak = applyRlimits(plan)
  plan.summary = plan.summary.replace(mechanism === 'disk' ? /,? ?disk image/ : /cgroup v\d,? ?/, '').replace(' ()', '')
  log(`WARNING: ${mechanism === 'disk' ? 'per-session disk images' : 'cgroups'} unusable here (${reason}); limits enforced by rlimits instead: ${weak.join(', ')}`)
}
