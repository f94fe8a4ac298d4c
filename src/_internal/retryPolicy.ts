import type { Client } from '../client.ts'
import { timerMs, type Call } from './deadline.ts'

/** A call's retry policy with every default filled in. */
export interface RetryPolicy {
  attempts: number
  baseDelay: number
  maxDelay: number
  /** `0`: no per-attempt clock. */
  attemptTimeout: number
}

/** The retry policy of a call: the per-call override, else the client's, else the defaults. */
export function retryPolicy(client: Client, call: Call): RetryPolicy {
  const chosen = call.retry === undefined ? client.retry : call.retry
  // A per-call `retry: false` keeps the client's per-attempt clock: it only stops repeats.
  const { attempts = 3, baseDelay = 250, maxDelay = 8_000, attemptTimeout = (client.retry || {}).attemptTimeout ?? 0 } = chosen || {}
  return { attempts: chosen === false ? 1 : attempts, baseDelay, maxDelay, attemptTimeout: timerMs(attemptTimeout) }
}

/**
 * Milliseconds to wait before attempt `attempt + 1`: the `Retry-After` the service asked
 * for (seconds or an HTTP date), else full-jitter exponential backoff (a random wait up to
 * base·2^(attempt-1)); never longer than `maxDelay`.
 */
export function retryDelay(policy: RetryPolicy, attempt: number, retryAfter?: string | null): number {
  let ms = Math.random() * Math.min(policy.maxDelay, policy.baseDelay * 2 ** (attempt - 1))
  if (retryAfter) {
    const seconds = Number(retryAfter)
    const asked = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now()
    if (!Number.isNaN(asked)) ms = Math.max(0, asked)
  }
  return Math.min(ms, policy.maxDelay)
}

/** Statuses worth repeating an idempotent request for: 408, 425, 429 and every 5xx. */
export const RETRY_STATUS: number[] = [408, 425, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)]
