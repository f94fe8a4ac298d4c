import type { Language } from '../types.ts'
import { invalid } from './check.ts'

const ALIASES: Record<string, Language> = {
  python: 'python',
  py: 'python',
  python3: 'python',
  javascript: 'javascript',
  js: 'javascript',
  node: 'javascript',
  nodejs: 'javascript',
  java: 'java',
  r: 'r',
}

/** The `language` option: trimmed, case-insensitive, aliases resolved, default python. */
export function language(value: unknown): Language {
  if (value === undefined) return 'python'
  return (typeof value === 'string' && ALIASES[value.trim().toLowerCase()]) || invalid('options.language', 'language must be python, javascript, java or r (or py, python3, js, node, nodejs)')
}
