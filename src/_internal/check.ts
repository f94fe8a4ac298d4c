import { AgbError } from '../errors.ts'
import type { RequestOptions, RetryOptions } from '../types.ts'

// Hand-written checks for the options every call takes and the few fields of the core
// operations: a handful of typeof tests cost less (bytes and microseconds per call) than
// schemas that would only mirror the types. valibot checks the richer inputs and responses.

/** Throws the `invalid_input` error naming `field` (`options.timeout` ...). */
export const invalid = (field: string, message: string): never => {
  throw new AgbError('invalid_input', `Invalid ${field}: ${message}`)
}

/** A non-blank string, trimmed. */
export const nonBlank = (value: unknown, field: string): string =>
  typeof value === 'string' && value.trim() ? value.trim() : invalid(field, `${field.split('.').pop()} must be a non-empty string`)

/** An optional positive whole number (of milliseconds unless `unit` says otherwise). */
export const positive = <T extends number | undefined>(value: T, field: string, unit = 'milliseconds'): T =>
  value === undefined || (Number.isInteger(value) && value > 0) ? value : invalid(field, `${field.split('.').pop()} must be a positive whole number of ${unit}`)

/** An optional object of string values (headers, env). */
export const stringRecord = (value: unknown, field: string): Record<string, string> | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid(field, `${field.split('.').pop()} must be an object of strings`)
  for (const [k, x] of Object.entries(value)) if (!k || typeof x !== 'string') invalid(`${field}.${k}`, 'names must not be empty and values must be strings')
  return value as Record<string, string>
}

/** One of `choices`, or `fallback` when absent. */
export const oneOf = <T extends string>(value: unknown, choices: readonly T[], fallback: T, field: string): T =>
  value === undefined ? fallback : choices.includes(value as T) ? (value as T) : invalid(field, `${field.split('.').pop()} must be ${choices.join(', ')}`)

const RETRY: Record<string, number> = { attempts: 1, baseDelay: 0, maxDelay: 0, attemptTimeout: 1 }

/** What is wrong with a `retry` value (`false` or `{ attempts?, baseDelay?, maxDelay?, attemptTimeout? }`), or `undefined`. */
export function retryProblem(retry: unknown): string | undefined {
  if (retry === undefined || retry === false) return undefined
  if (typeof retry !== 'object' || retry === null || Array.isArray(retry)) return 'retry must be false or { attempts?, baseDelay?, maxDelay?, attemptTimeout? }'
  for (const [key, value] of Object.entries(retry)) {
    const min = RETRY[key]
    if (min === undefined) return `retry.${key} is not a retry option (attempts, baseDelay, maxDelay, attemptTimeout)`
    if (value !== undefined && (typeof value !== 'number' || !(value >= min) || !Number.isFinite(value) || (min && !Number.isInteger(value)))) {
      return `retry.${key} must be a ${min ? 'whole number from 1' : 'number from 0'} (got ${JSON.stringify(value)})`
    }
  }
  return undefined
}

/** `retry`, the same check on `createClient` and on every call. */
export function retryOption(retry: unknown, field: string): RetryOptions | false | undefined {
  const problem = retryProblem(retry)
  return problem ? invalid(field, problem) : (retry as RetryOptions | false | undefined)
}

/**
 * Checks `signal`, `timeout` and `retry` of an operation's options (the fields every
 * operation takes) and that `options` is an object; returns it as given.
 */
export function requestOptions<T extends RequestOptions>(options: T | undefined): T | undefined {
  if (options === undefined) return undefined
  if (typeof options !== 'object' || options === null) return invalid('options', 'options must be an object')
  const { signal, timeout, retry } = options
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || !('aborted' in signal))) invalid('options.signal', 'signal must be an AbortSignal')
  positive(timeout, 'options.timeout')
  retryOption(retry, 'options.retry')
  return options
}
