import type { RequestOptions, RetryOptions } from '../types.ts'

/**
 * One running operation, as every internal helper sees it: passed explicitly (never looked
 * up from a signal), so nothing it carries can be lost on the way.
 */
export interface Call {
  /** The public operation's name (`exec`, `readFile` ...): every error message starts with it. */
  readonly op: string
  /** Aborts when the caller's signal fires or the operation's deadline passes. */
  readonly signal: AbortSignal
  /** Milliseconds the whole operation may take: the limit named when it fires. */
  readonly timeout: number
  /** The per-call retry policy, overriding the client's. */
  readonly retry?: RetryOptions | false
}

// Timers fire at once past 2^31-1 ms (~24.8 days) in every runtime: a longer timeout or
// poll interval would time out or spin immediately, so it is capped there.
export const timerMs = (ms: number): number => Math.min(ms, 2_147_483_647)

/** The reason a deadline aborts with: a `TimeoutError`, as `AbortSignal.timeout` gives. */
export const deadlineReason = (op: string, ms: number): DOMException => new DOMException(`${op} timed out after ${ms} ms`, 'TimeoutError')

function open(op: string, o: RequestOptions | undefined, ms: number, timer: AbortSignal): Call {
  const signal = o?.signal ? AbortSignal.any([o.signal, timer]) : timer
  return { op, signal, timeout: ms, retry: o?.retry }
}

/**
 * Runs `work` under the operation's deadline (the caller's signal combined with a timer) and
 * clears the timer when it settles. A cleared timer and a plain controller cost 2 µs a call
 * on Node 20; `AbortSignal.timeout` costs 5 µs and keeps its timer until it fires.
 *
 * `o` must already be validated (the operation's schema spreads `requestOptionEntries`).
 */
export async function withDeadline<T>(op: string, o: RequestOptions | undefined, defaultMs: number, work: (call: Call) => Promise<T>): Promise<T> {
  const ms = timerMs(o?.timeout ?? defaultMs)
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(deadlineReason(op, ms)), ms)
  try {
    return await work(open(op, o, ms, controller.signal))
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The same deadline for work that outlives the call that started it (streams, process
 * handles): the timer is not cleared, it fires or is collected, and never holds a Node program open.
 */
export function openDeadline(op: string, o: RequestOptions | undefined, defaultMs: number): Call {
  const ms = timerMs(o?.timeout ?? defaultMs)
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(deadlineReason(op, ms)), ms)
  // Node: the work in flight (a socket, a fetch) keeps the program alive, not this timer, so a
  // program that finished streaming exits at once instead of at the deadline.
  ;(timer as { unref?: () => void }).unref?.()
  return open(op, o, ms, controller.signal)
}
