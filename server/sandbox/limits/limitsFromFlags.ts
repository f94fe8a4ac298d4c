import type { LimitsOption } from './resolveLimits.ts'

/** The command-line flags of the per-session limits, in `node:util` parseArgs form. */
export const LIMIT_FLAGS = {
  memory: { type: 'string' },
  processes: { type: 'string' },
  cpus: { type: 'string' },
  disk: { type: 'string' },
  'total-memory': { type: 'string' },
  'total-processes': { type: 'string' },
  'no-limits': { type: 'boolean' },
} as const

/** Help text of {@link LIMIT_FLAGS}. */
export const LIMIT_FLAGS_USAGE = '  [--memory <size>] [--processes <n>] [--cpus <n>] [--disk <size>] [--no-limits]   per-session limits (default 2g, 512, 1, 2g)\n' +
  '  [--total-memory <size>] [--total-processes <n>]   all sessions together (default 75% of the host memory, 8 x --processes)'

function count(value: string, flag: string): number {
  const n = Number(value)
  if (!value.trim() || !Number.isFinite(n) || n <= 0) throw new TypeError(`--${flag} must be a positive number (got ${JSON.stringify(value)})`)
  return n
}

/**
 * The `limits` option from parsed flags: `--memory 2g --processes 512 --cpus 1 --disk 2g
 * --total-memory 16g --total-processes 4096`
 * (sizes in bytes or with k/m/g/t), or `--no-limits`. Flags not given keep their defaults.
 * @throws TypeError naming the flag when a value is not positive (sizes are checked by createAgbLocal)
 */
export function limitsFromFlags(values: { memory?: string; processes?: string; cpus?: string; disk?: string; 'total-memory'?: string; 'total-processes'?: string; 'no-limits'?: boolean }): { limits?: LimitsOption | false } {
  if (values['no-limits']) return { limits: false }
  const limits: LimitsOption = {}
  if (values.memory !== undefined) limits.memory = values.memory
  if (values.processes !== undefined) limits.processes = count(values.processes, 'processes')
  if (values.cpus !== undefined) limits.cpus = count(values.cpus, 'cpus')
  if (values.disk !== undefined) limits.disk = values.disk
  if (values['total-memory'] !== undefined) limits.totalMemory = values['total-memory']
  if (values['total-processes'] !== undefined) limits.totalProcesses = count(values['total-processes'], 'total-processes')
  return Object.keys(limits).length ? { limits } : {}
}
