import { AgbError } from '../errors.ts'
import type { RequestOptions, RetryOptions } from '../types.ts'

// Hand-written checks for the options every call takes and the few fields of the core
// operations: a handful of typeof tests cost less (bytes and microseconds per call) than
// schemas that would only mirror the types. Every message is built here, by `invalid`.

/** Throws the `invalid_input` error naming `field` (`options.timeout` ...) and what it must be. */
export const invalid = (field: string, expected: string): never => {
  throw new AgbError('invalid_input', `Invalid ${field}: must be ${expected}`)
}

/** A plain object (not null, not an array); its fields are read with checks, hence `any`. */
export const isRecord = (x: unknown): x is Record<string, any> => typeof x === 'object' && x !== null && !Array.isArray(x)

/** A non-blank string, trimmed. */
export const nonBlank = (value: unknown, field: string, expected = 'a non-empty string'): string => (typeof value === 'string' && value.trim()) || invalid(field, expected)

/** An optional positive whole number (of milliseconds unless `unit` says otherwise). */
export const positive = <T extends number | undefined>(value: T, field: string, unit = 'milliseconds'): T =>
  value === undefined || (Number.isInteger(value) && value > 0) ? value : invalid(field, `a positive whole number of ${unit}`)

/** An optional object of string values (headers, env, labels). */
export const stringRecord = (value: unknown, field: string): Record<string, string> | undefined => {
  if (value !== undefined) {
    if (!isRecord(value)) invalid(field, 'an object of strings')
    for (const [k, x] of Object.entries(value as object)) if (!k.trim() || typeof x !== 'string') invalid(`${field}.${k}`, 'a string under a non-blank name')
  }
  return value as Record<string, string> | undefined
}

/** One of `choices`, or `fallback` when absent. */
export const oneOf = <T extends string>(value: unknown, choices: readonly T[], fallback: T, field: string): T =>
  value === undefined ? fallback : choices.includes(value as T) ? (value as T) : invalid(field, choices.join(', '))

/** What is wrong with a `retry` value (`false` or `{ attempts?, baseDelay?, maxDelay?, attemptTimeout? }`), or `undefined`. */
export function retryProblem(retry: unknown): string | undefined {
  if (retry === undefined || retry === false) return undefined
  if (!isRecord(retry)) return 'retry must be false or { attempts?, baseDelay?, maxDelay?, attemptTimeout? }'
  for (const [key, value] of Object.entries(retry)) {
    if (!/^(attempts|baseDelay|maxDelay|attemptTimeout)$/.test(key)) return `retry.${key} is not a retry option (attempts, baseDelay, maxDelay, attemptTimeout)`
    // attempts and attemptTimeout: whole numbers from 1; the delays: numbers from 0.
    const min = /Delay/.test(key) ? 0 : 1
    if (value !== undefined && !((min ? Number.isInteger(value) : Number.isFinite(value)) && (value as number) >= min)) {
      return `retry.${key} must be a ${min ? 'whole number from 1' : 'number from 0'} (got ${JSON.stringify(value)})`
    }
  }
  return undefined
}

/** `retry`, the same check on `createClient` and on every call. */
export function retryOption(retry: unknown, field: string): RetryOptions | false | undefined {
  const problem = retryProblem(retry)
  if (problem) throw new AgbError('invalid_input', `Invalid ${field}: ${problem}`)
  return retry as RetryOptions | false | undefined
}

/**
 * Checks `signal`, `timeout` and `retry` of an operation's options (the fields every
 * operation takes) and that `options` is an object; returns it as given.
 */
export function requestOptions<T extends RequestOptions>(options: T | undefined): T | undefined {
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null) invalid('options', 'an object')
    if (options.signal !== undefined && !(typeof options.signal === 'object' && options.signal !== null && 'aborted' in options.signal)) invalid('options.signal', 'an AbortSignal')
    positive(options.timeout, 'options.timeout')
    retryOption(options.retry, 'options.retry')
  }
  return options
}

/** The client, checked to be one (`createClient`'s frozen data) before anything reads it. */
export const clientOf = <C extends { endpoint: string }>(client: C): C => (typeof client?.endpoint === 'string' ? client : invalid('client', 'a client from createClient'))
