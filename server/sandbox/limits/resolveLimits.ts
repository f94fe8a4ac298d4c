/** Per-session resource limits as the caller gives them (see `AgbLocalOptions.limits`). */
export interface LimitsOption {
  /** Memory of all the session's processes together: bytes, or a size such as `'2g'`, `'512m'`. Default 2 GiB. */
  memory?: number | string
  /** Processes and threads alive at once in the session. Default 512. */
  processes?: number
  /** CPU cores' worth of time the session may use (`0.5` = half a core). Default 1. */
  cpus?: number
  /** Disk space of the session's files (`/home/user`, `/tmp`, ...): bytes or a size. Default 2 GiB. */
  disk?: number | string
  /**
   * Memory of all sessions of this AGB Local together: bytes or a size. Default 75% of the
   * host's memory (so many sessions at their own limit cannot exhaust the host).
   */
  totalMemory?: number | string
  /** Processes and threads of all sessions together. Default 8 × `processes`, at least 4096. */
  totalProcesses?: number
}

/** Limits of all sessions of one AGB Local together, with defaults applied; `null` = not limited. */
export interface TotalLimits {
  memory: number | null
  processes: number | null
}

/** Limits with defaults applied; `null` = not limited. */
export interface SessionLimits {
  memory: number | null
  processes: number | null
  cpus: number | null
  disk: number | null
}

const GIB = 1024 ** 3
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: GIB, gb: GIB, gib: GIB, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4 }

/** Defaults of every limit. */
const DEFAULT_LIMITS: Readonly<SessionLimits> = Object.freeze({ memory: 2 * GIB, processes: 512, cpus: 1, disk: 2 * GIB })

/**
 * Parses a size: a number of bytes or `'<n>[k|m|g|t][i][b]'` (binary units: `'2g'` = 2 GiB).
 * @throws TypeError naming the option when the value is not a positive size
 */
function parseSize(value: number | string, name: string): number {
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value) : null
  const unit = match ? UNITS[match[2]!.toLowerCase()] : 1
  const bytes = typeof value === 'number' ? value : match && unit ? Number(match[1]) * unit : Number.NaN
  if (!Number.isFinite(bytes) || bytes <= 0) throw new TypeError(`AGB Local: limits.${name} must be a positive size in bytes or like '2g' / '512m' (got ${JSON.stringify(value)})`)
  return Math.floor(bytes)
}

function positive(value: number, name: string, integer: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new TypeError(`AGB Local: limits.${name} must be a positive ${integer ? 'integer' : 'number'} (got ${JSON.stringify(value)})`)
  }
  return value
}

/**
 * Applies defaults to the `limits` option; `false` turns every limit off.
 * @throws TypeError when a value is not a positive size/number
 */
export function resolveLimits(option: LimitsOption | false | undefined): SessionLimits {
  if (option === false) return { memory: null, processes: null, cpus: null, disk: null }
  const o = option ?? {}
  return {
    memory: o.memory === undefined ? DEFAULT_LIMITS.memory : parseSize(o.memory, 'memory'),
    processes: o.processes === undefined ? DEFAULT_LIMITS.processes : positive(o.processes, 'processes', true),
    cpus: o.cpus === undefined ? DEFAULT_LIMITS.cpus : positive(o.cpus, 'cpus', false),
    disk: o.disk === undefined ? DEFAULT_LIMITS.disk : parseSize(o.disk, 'disk'),
  }
}

/** 75% of the host's memory, rounded down to whole GiB (MiB on a small host). */
function defaultTotalMemory(hostMemory: number): number {
  const unit = hostMemory * 0.75 >= 4 * GIB ? GIB : 1024 ** 2
  return Math.max(unit, Math.floor((hostMemory * 0.75) / unit) * unit)
}

/**
 * The limits of all sessions together (see {@link LimitsOption.totalMemory}); `false` turns
 * them off with the rest.
 * @param hostMemory the host's memory in bytes (`os.totalmem()`)
 * @throws TypeError when a value is not a positive size/number
 */
export function resolveTotals(option: LimitsOption | false | undefined, limits: SessionLimits, hostMemory: number): TotalLimits {
  if (option === false) return { memory: null, processes: null }
  const o = option ?? {}
  return {
    memory: o.totalMemory === undefined ? defaultTotalMemory(hostMemory) : parseSize(o.totalMemory, 'totalMemory'),
    processes: o.totalProcesses === undefined ? Math.max(4096, 8 * (limits.processes ?? 512)) : positive(o.totalProcesses, 'totalProcesses', true),
  }
}

/** `2147483648` → `'2 GiB'`, `268435456` → `'256 MiB'`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let i = 0
  while (value >= 1024 && i < units.length - 1 && value % 1024 === 0) {
    value /= 1024
    i++
  }
  if (i === 0 && bytes >= 1024) {
    while (value >= 1024 && i < units.length - 1) {
      value /= 1024
      i++
    }
    return `${value.toFixed(1)} ${units[i]}`
  }
  return `${value} ${units[i]}`
}
