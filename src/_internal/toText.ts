/**
 * Any service value as text, never throwing: objects whose `toString` is not a function
 * (JSON like `{"toString": 1}`) would make `String(x)` throw a TypeError.
 */
export function toText(value: unknown): string {
  if (typeof value === 'string') return value
  if (value == null) return ''
  try {
    return typeof value === 'object' ? JSON.stringify(value) : String(value)
  } catch {
    return '[unprintable]'
  }
}
