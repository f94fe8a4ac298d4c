import * as v from 'valibot'
import { AgbError } from '../errors.ts'
import { facts, type Envelope } from './envelope.ts'
import { parseJsonField } from './parseJson.ts'

/**
 * Validates response data against a schema; a mismatch is an `invalid_response` error
 * carrying the request id, so a contract change on the service side is reported, not guessed.
 */
export function decode<S extends v.GenericSchema>(schema: S, value: unknown, envelope: Pick<Envelope, 'op' | 'route' | 'requestId' | 'status'>): v.InferOutput<S> {
  const result = v.safeParse(schema, value)
  if (result.success) return result.output
  const issue = result.issues[0]
  const path = v.getDotPath(issue)
  throw new AgbError(
    'invalid_response',
    `${envelope.op}: unexpected response${path ? ` at ${path}` : ''}: ${issue.message}${facts(envelope.route, envelope.requestId && `request ${envelope.requestId}`)}`,
    { status: envelope.status, ...(envelope.requestId ? { requestId: envelope.requestId } : {}) },
  )
}

/** Parses a JSON-encoded string field; non-strings pass through unchanged. */
export const jsonString = v.pipe(v.unknown(), v.transform(parseJsonField))

/** Answer data carrying a `url` (links, presigned URLs), read as that URL. */
export const UrlSchema = v.pipe(v.looseObject({ url: v.string() }), v.transform((d) => d.url))
