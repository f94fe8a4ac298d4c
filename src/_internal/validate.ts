import * as v from 'valibot'
import { AgbError } from '../errors.ts'
import type { RetryOptions } from '../types.ts'

/**
 * Parses user input through a schema, throwing an `invalid_input` AgbError that names the
 * offending field. Runs before any request so bad input never reaches the network.
 */
export function validate<S extends v.GenericSchema>(schema: S, input: unknown, what: string): v.InferOutput<S> {
  const result = v.safeParse(schema, input)
  if (result.success) return result.output
  const issue = result.issues[0]
  const path = v.getDotPath(issue)
  const field = path ? `${what}.${path}` : what
  throw new AgbError('invalid_input', `Invalid ${field}: ${issue.message}`)
}

/** A non-empty string (after trimming), with a message naming the field. */
export const nonEmpty = (field: string) =>
  v.pipe(v.string(`${field} must be a string`), v.trim(), v.nonEmpty(`${field} must not be empty`))

/** An optional positive whole number of milliseconds. */
export const optionalMs = (field: string) =>
  v.optional(
    v.pipe(
      v.number(`${field} must be a number of milliseconds`),
      v.integer(`${field} must be a whole number of milliseconds`),
      v.minValue(1, `${field} must be positive`),
    ),
  )

/** Options shared by every operation: `signal` and `timeout`. */
export const requestOptionEntries = {
  signal: v.optional(v.custom<AbortSignal>((s) => typeof s === 'object' && s !== null && 'aborted' in s, 'signal must be an AbortSignal')),
  timeout: optionalMs('timeout'),
  retry: v.optional(v.union([v.literal(false), v.custom<RetryOptions>((r) => typeof r === 'object' && r !== null, 'retry must be false or an object')], 'retry must be false or an object')),
}
