import type { ExecutionResult } from '../types.ts'
import { decodeItem } from './parseCodeResult.ts'
import { toText } from './toText.ts'

// MIME keys of the current format first, the short keys of the rich format as fallbacks.
const KINDS: [keyof ExecutionResult, string[]][] = [
  ['text', ['text/plain', 'text']],
  ['html', ['text/html', 'html']],
  ['markdown', ['text/markdown', 'markdown']],
  ['png', ['image/png', 'png']],
  ['jpeg', ['image/jpeg', 'jpeg']],
  ['svg', ['image/svg+xml', 'svg']],
  ['json', ['application/json', 'json']],
  ['latex', ['text/latex', 'latex']],
  ['chart', ['application/vnd.vegalite.v5+json', 'application/vnd.vegalite.v4+json', 'chart']],
]

/** One raw result item (MIME map, short keys or a JSON string) as an {@link ExecutionResult}. */
export function toItem(raw: unknown): ExecutionResult | undefined {
  const item = decodeItem(raw)
  if (typeof item === 'string') return { text: item, isMainResult: false }
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return item == null ? undefined : { text: toText(item), isMainResult: false }
  const o = item as Record<string, unknown>
  const out: ExecutionResult = { isMainResult: o.isMainResult === true || o.is_main_result === true }
  for (const [kind, keys] of KINDS) {
    const key = keys.find((k) => o[k] != null)
    if (key === undefined) continue
    const value = o[key]
    ;(out as unknown as Record<string, unknown>)[kind] = kind === 'json' || kind === 'chart' || typeof value === 'string' ? value : JSON.stringify(value)
  }
  return out
}
