import { BadRequest } from './Route.ts'

/**
 * Parses a request value that carries an object as JSON text (a plain object is taken as it
 * is). Empty or absent (`undefined`, `null`, `''`) means `{}`.
 * @param message the BadRequest message, for unparsable text and for anything but an object alike
 * @throws BadRequest when it is not a JSON object
 */
export function parseJsonObject(value: unknown, message: string): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {}
  let parsed = value
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value)
    } catch {
      throw new BadRequest(message)
    }
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadRequest(message)
  return parsed as Record<string, unknown>
}
