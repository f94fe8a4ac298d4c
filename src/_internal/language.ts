import type { Language } from '../types.ts'
import { invalid } from './check.ts'

/** The `language` option: trimmed, case-insensitive, aliases resolved, default python. */
export function language(value: unknown): Language {
  if (value === undefined) return 'python'
  const name = typeof value === 'string' ? value.trim().toLowerCase() : ''
  if (/^(py|python3?)$/.test(name)) return 'python'
  if (/^(js|node(js)?|javascript)$/.test(name)) return 'javascript'
  return name === 'java' || name === 'r' ? name : invalid('options.language', 'python, javascript, java or r (or py, python3, js, node, nodejs)')
}
