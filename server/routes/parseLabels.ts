import { parseJsonObject } from './parseJsonObject.ts'

/**
 * Parses a labels value (a JSON-encoded object, as createSession's `labels`, SetLabel's
 * `Labels` and ListSession's `labels` carry it; a plain object is accepted too). Values are
 * stringified; empty/absent means `{}`.
 * @param name parameter name for the error message
 * @throws BadRequest when it is not a JSON object
 */
export function parseLabels(value: unknown, name = 'labels'): Record<string, string> {
  const parsed = parseJsonObject(value, `${name} must be a JSON-encoded object`)
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]))
}
