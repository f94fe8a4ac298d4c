import type { FaultKind, Faults, FaultSpec } from '../types.ts'
import { faultMatches } from './faultMatches.ts'

const KINDS: ReadonlySet<FaultKind> = new Set<FaultKind>(['status', 'retry-after', 'malformed-json', 'html', 'empty',
  'envelope-failure', 'tool-error', 'schema', 'hang', 'drop', 'slow-drip', 'lost-answer'])
const LOST_AS: ReadonlySet<string> = new Set(['drop', 'hang', 'status', 'malformed-json'])

/** What a request offers for matching. */
export interface FaultTarget {
  path: string
  /** Tool name when the request is a tool call (`/mcp` `name`, linkUrl `tool`). */
  tool?: string
}

/** The handler's side of {@link Faults}. */
export interface FaultStore extends Faults {
  /** True when some queued fault names a tool (the handler then peeks into the body). */
  wantsTool(): boolean
  /** Consumes one use of the first fault matching `target`. */
  take(target: FaultTarget): FaultSpec | undefined
  /** Never resolves; rejects with the signal's reason on abort, or when {@link closeAll} runs. */
  hang(signal: AbortSignal): Promise<never>
  /** Rejects every hanging request, and any later one at once (AgbLocal.close). */
  closeAll(): void
}

/**
 * The fault queue of one AgbLocal.
 * @example
 * local.faults.add({ route: '/mcp/createSession', kind: 'retry-after', retryAfter: 0, times: 2 })
 */
export function createFaults(): FaultStore {
  let queue: Array<FaultSpec & { left: number }> = []
  const hanging = new Set<(reason: unknown) => void>()
  const closedError = () => new Error('AGB Local closed while the request was hanging (fault injection)')
  let closed = false
  return {
    add(spec) {
      if (!spec || !KINDS.has(spec.kind)) throw new TypeError(`faults.add: unknown kind ${JSON.stringify(spec?.kind)}; expected one of ${[...KINDS].join(', ')}`)
      const times = spec.times ?? 1
      if (!(times >= 1)) throw new TypeError('faults.add: times must be at least 1 (or Infinity)')
      if (spec.route !== undefined && !spec.route.startsWith('/')) throw new TypeError('faults.add: route must be a path starting with /')
      if (spec.status !== undefined && !(Number.isInteger(spec.status) && spec.status >= 200 && spec.status <= 599)) throw new TypeError('faults.add: status must be an integer in 200-599')
      for (const key of ['retryAfter', 'intervalMs'] as const) {
        if (spec[key] !== undefined && !(spec[key] >= 0)) throw new TypeError(`faults.add: ${key} must be a non-negative number`)
      }
      if (spec.lostAs !== undefined && !LOST_AS.has(spec.lostAs)) throw new TypeError(`faults.add: lostAs must be one of ${[...LOST_AS].join(', ')}`)
      queue.push({ ...spec, left: times })
    },
    clear() {
      queue = []
    },
    pending: () => queue.reduce((n, f) => n + f.left, 0),
    wantsTool: () => queue.some((f) => f.tool !== undefined),
    take(target) {
      const fault = queue.find((f) => faultMatches(f, target))
      if (!fault) return undefined
      if (--fault.left <= 0) queue = queue.filter((f) => f !== fault)
      const { left: _left, ...spec } = fault
      return spec
    },
    hang(signal) {
      return new Promise<never>((_resolve, reject) => {
        const done = (reason: unknown) => {
          hanging.delete(done)
          signal.removeEventListener('abort', onAbort)
          reject(reason)
        }
        const onAbort = () => done(signal.reason)
        if (signal.aborted) return done(signal.reason)
        if (closed) return done(closedError())
        signal.addEventListener('abort', onAbort, { once: true })
        hanging.add(done)
      })
    },
    closeAll() {
      closed = true
      for (const done of [...hanging]) done(closedError())
    },
  }
}
