import type { FaultSpec } from './types.ts'

const NUMBERS = new Set(['status', 'retryAfter', 'times', 'intervalMs'])
const STRINGS = new Set(['route', 'tool', 'kind', 'code', 'message', 'lostAs'])

/**
 * Parses the CLI's `--fault` value, comma-separated `key=value` pairs of a {@link FaultSpec}:
 * `route=/mcp,tool=shell,kind=503,times=2`. A numeric `kind` is shorthand for `kind=status`
 * with that status; `times=inf` means every matching request. The spec itself is checked by
 * `faults.add`.
 * @throws Error naming the bad pair
 * @example
 * parseFaultFlag('route=/mcp/createSession,kind=retry-after,retryAfter=0,times=2')
 */
export function parseFaultFlag(text: string): FaultSpec {
  const spec: Record<string, unknown> = {}
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=')
    const key = pair.slice(0, eq).trim()
    const value = pair.slice(eq + 1).trim()
    if (eq < 1 || !value) throw new Error(`--fault: expected key=value pairs separated by commas, got ${JSON.stringify(pair)}`)
    if (key === 'kind' && /^\d+$/.test(value)) {
      spec.kind = 'status'
      spec.status = Number(value)
    } else if (NUMBERS.has(key)) {
      const n = key === 'times' && /^inf(inity)?$/i.test(value) ? Infinity : Number(value)
      if (Number.isNaN(n)) throw new Error(`--fault: ${key} must be a number, got ${JSON.stringify(value)}`)
      spec[key] = n
    } else if (STRINGS.has(key)) spec[key] = value
    else throw new Error(`--fault: unknown key ${JSON.stringify(key)}; use ${[...STRINGS, ...NUMBERS].join(', ')}`)
  }
  if (!spec.kind) throw new Error('--fault: kind is required (e.g. kind=503, kind=hang, kind=tool-error)')
  return spec as unknown as FaultSpec
}
