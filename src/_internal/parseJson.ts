/** `JSON.parse`, or `undefined` when `text` is not JSON (service texts may be either). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {}
}

/** A JSON-encoded string field, decoded; anything else (a non-string, text that is not JSON) as it is. */
export function parseJsonField(value: unknown): unknown {
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value) as unknown
  } catch {
    return value
  }
}
