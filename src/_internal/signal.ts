import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, RetryOptions } from '../types.ts'
import { requestOptionEntries, validate } from './validate.ts'

// A per-call retry override travels with the operation's signal, so the many internal
// helpers that take a signal need no extra parameter.
const overrides = new WeakMap<AbortSignal, RetryOptions | false>()

// Timers fire at once past 2^31-1 ms (~24.8 days) in every runtime: a longer timeout or
// poll interval would time out or spin immediately, so it is capped there.
export const timerMs = (ms: number): number => Math.min(ms, 2_147_483_647)

/**
 * One signal for a whole operation: the caller's signal combined with the operation's
 * deadline, so every HTTP request and every poll inside the operation stops together. For
 * work that outlives the call (streams, process handles); bounded calls use
 * {@link withDeadline}, which is cheaper.
 */
export function deadline(options: RequestOptions | undefined, defaultMs: number): AbortSignal {
  const { o, ms } = checked(options, defaultMs)
  return combine(o, AbortSignal.timeout(ms))
}

/**
 * Runs `work` under the operation's deadline signal and clears the deadline's timer when it
 * settles. `AbortSignal.timeout` costs 5 µs a call on Node 20 (and keeps its timer until it
 * fires or is collected); a cleared timer and a plain controller cost 2 µs.
 */
export async function withDeadline<T>(options: RequestOptions | undefined, defaultMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { o, ms } = checked(options, defaultMs)
  const controller = new AbortController()
  // The same reason AbortSignal.timeout gives, so callers tell a timeout from an abort alike.
  const timer = setTimeout(() => controller.abort(new DOMException(`The operation timed out after ${ms} ms`, 'TimeoutError')), ms)
  try {
    return await work(combine(o, controller.signal))
  } finally {
    clearTimeout(timer)
  }
}

const RequestOptionsSchema = v.object(requestOptionEntries)

/**
 * `signal`, `timeout` and `retry` checked here, the one place every operation passes: an
 * operation without options of its own still rejects a bad `timeout` as `invalid_input`
 * before anything is sent.
 */
const checked = (options: RequestOptions | undefined, defaultMs: number): { o: RequestOptions | undefined; ms: number } => {
  const o = options === undefined ? undefined : validate(RequestOptionsSchema, options, 'options')
  return { o, ms: timerMs(o?.timeout ?? defaultMs) }
}

function combine(options: RequestOptions | undefined, timer: AbortSignal): AbortSignal {
  const signal = options?.signal ? AbortSignal.any([options.signal, timer]) : timer
  if (options?.retry !== undefined) overrides.set(signal, options.retry)
  return signal
}

/** The retry policy of a call: the per-call override, else the client's, else the defaults. */
export function retryPolicy(client: Client, signal: AbortSignal): Required<RetryOptions> {
  const chosen = overrides.has(signal) ? overrides.get(signal) : client.retry
  const attemptTimeout = (chosen || undefined)?.attemptTimeout ?? (client.retry || undefined)?.attemptTimeout ?? 0
  if (chosen === false) return { attempts: 1, baseDelay: 0, maxDelay: 0, attemptTimeout }
  return { attempts: chosen?.attempts ?? 3, baseDelay: chosen?.baseDelay ?? 250, maxDelay: chosen?.maxDelay ?? 8_000, attemptTimeout }
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(id)
      reject(signal.reason)
    }
    const id = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, timerMs(ms))
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Splits a call's deadline between the sandbox and the transport: the sandbox gets a little
 * less time than the call, so it can kill the code and report before the HTTP deadline,
 * and the call never outlives `timeout`. (The official SDKs cut long runs at 60 s instead.)
 */
export function remoteBudget(timeout: number): number {
  const margin = Math.min(5_000, Math.max(1_000, timeout * 0.1))
  return Math.max(1_000, timeout - margin)
}
