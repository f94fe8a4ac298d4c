import { parseJsonObject } from './parseJsonObject.ts'

/** Tool `args`: a JSON-encoded string on `/mcp`, a plain object on the linkUrl route; accept both. */
export function parseToolArgs(value: unknown): Record<string, unknown> {
  return parseJsonObject(value, 'args must be a JSON-encoded object')
}
