import * as v from 'valibot'
import { AgbError } from '../errors.ts'
import type { RetryOptions } from '../types.ts'
import { retryProblem } from './check.ts'
import { labelsProblem } from './labels.ts'

/**
 * Parses user input through a schema, throwing an `invalid_input` AgbError that names the
 * offending field. Runs before any request so bad input never reaches the network.
 */
export function validate<S extends v.GenericSchema>(schema: S, input: unknown, what: string): v.InferOutput<S> {
  const result = v.safeParse(schema, input)
  if (result.success) return result.output
  const issue = result.issues[0]
  const path = v.getDotPath(issue)
  throw new AgbError('invalid_input', `Invalid ${path ? `${what}.${path}` : what}: ${issue.message}`)
}

/** A non-empty string (after trimming), with a message naming the field. */
export const nonEmpty = (field: string) => v.pipe(v.string(`${field} must be a string`), v.trim(), v.nonEmpty(`${field} must not be empty`))

/** A positive whole number, with a message naming the field and its unit. */
const positive = (field: string, unit: string) =>
  v.pipe(v.number(`${field} must be a number of ${unit}`), v.integer(`${field} must be a whole number of ${unit}`), v.minValue(1, `${field} must be positive`))

/** An optional positive whole number of milliseconds. */
export const optionalMs = (field: string) => v.optional(positive(field, 'milliseconds'))

/** `retry`, the same check on `createClient` and on every call. */
export const RetrySchema = v.optional(v.custom<RetryOptions | false>((r) => retryProblem(r) === undefined, (issue) => retryProblem(issue.input)!))

/** Options every operation takes: `signal`, `timeout`, `retry`. Spread into each operation's schema. */
export const requestOptionEntries = {
  signal: v.optional(v.custom<AbortSignal>((s) => typeof s === 'object' && s !== null && 'aborted' in s, 'signal must be an AbortSignal')),
  timeout: optionalMs('timeout'),
  retry: RetrySchema,
}

/** Labels as a schema (non-blank string keys and values), for operations checked with valibot. */
export const LabelsSchema = v.custom<Record<string, string>>((l) => labelsProblem(l) === undefined, (issue) => labelsProblem(issue.input)!)
