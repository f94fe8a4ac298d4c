import { BadRequest } from './Route.ts'

/** Tool `args`: a JSON-encoded string on `/mcp`, a plain object on the linkUrl route; accept both. */
export function parseToolArgs(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {}
  let parsed = value
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value)
    } catch {
      throw new BadRequest('args must be a JSON-encoded object')
    }
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadRequest('args must be a JSON-encoded object')
  return parsed as Record<string, unknown>
}
