const MAX_STRING = 120
const MAX_FIELDS = 8
const SECRET_NAME = /token|key|secret|password|authorization|signature|credential/i
/** Fields whose value is bulk data: only its size is shown. */
const BULK_NAME = /^(content|data|body|file_data|edits)$/i

function short(value: unknown): string {
  if (typeof value === 'string') {
    const oneLine = value.replace(/\s+/g, ' ').trim()
    return JSON.stringify(oneLine.length > MAX_STRING ? `${oneLine.slice(0, MAX_STRING)}…` : oneLine)
  }
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? `[${value.length} items]` : '{…}'
}

/**
 * A one-line, safe summary of a tool call's arguments for the console timeline: at most
 * {@link MAX_FIELDS} fields, strings cut to one line of {@link MAX_STRING} characters, bulk data
 * (file contents) as its size only, and fields named like a secret (token, key, password,
 * signature …) replaced whatever they hold. `args` may be the object or the JSON-encoded string
 * `/mcp` carries.
 */
export function summarizeArgs(args: unknown): string {
  let value = args
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value)
    } catch {
      return short(value)
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return short(value)
  const entries = Object.entries(value as Record<string, unknown>)
  const parts = entries.slice(0, MAX_FIELDS).map(([name, v]) => {
    if (SECRET_NAME.test(name)) return `${name}=[redacted]`
    if (BULK_NAME.test(name) && typeof v === 'string') return `${name}=<${new TextEncoder().encode(v).length} bytes>`
    return `${name}=${short(v)}`
  })
  if (entries.length > MAX_FIELDS) parts.push(`… ${entries.length - MAX_FIELDS} more`)
  return parts.join(' ')
}
