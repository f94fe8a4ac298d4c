import type { LimitsOption } from './resolveLimits.ts'

/** The command-line flags of the per-session limits, in `node:util` parseArgs form. */
export const LIMIT_FLAGS = {
  memory: { type: 'string' },
  processes: { type: 'string' },
  cpus: { type: 'string' },
  disk: { type: 'string' },
  'no-limits': { type: 'boolean' },
} as const

/** Help text of {@link LIMIT_FLAGS}. */
export const LIMIT_FLAGS_USAGE = '  [--memory <size>] [--processes <n>] [--cpus <n>] [--disk <size>] [--no-limits]   per-session limits (default 2g, 512, 1, 2g)'

function count(value: string, flag: string): number {
  const n = Number(value)
  if (!value.trim() || !Number.isFinite(n) || n <= 0) throw new TypeError(`--${flag} must be a positive number (got ${JSON.stringify(value)})`)
  return n
}

/**
 * The `limits` option from parsed flags: `--memory 2g --processes 512 --cpus 1 --disk 2g`
 * (sizes in bytes or with k/m/g/t), or `--no-limits`. Flags not given keep their defaults.
 * @throws TypeError naming the flag when a value is not positive (sizes are checked by createAgbLocal)
 */
export function limitsFromFlags(values: { memory?: string; processes?: string; cpus?: string; disk?: string; 'no-limits'?: boolean }): { limits?: LimitsOption | false } {
  if (values['no-limits']) return { limits: false }
  const limits: LimitsOption = {}
  if (values.memory !== undefined) limits.memory = values.memory
  if (values.processes !== undefined) limits.processes = count(values.processes, 'processes')
  if (values.cpus !== undefined) limits.cpus = count(values.cpus, 'cpus')
  if (values.disk !== undefined) limits.disk = values.disk
  return Object.keys(limits).length ? { limits } : {}
}
