import * as v from 'valibot'

import type { Language } from '../types.ts'

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

/** `language` option: trimmed, lower-cased, aliases resolved, default python. */
export const LanguageSchema = v.optional(
  v.pipe(
    v.string('language must be a string'),
    v.trim(),
    v.toLowerCase(),
    v.check((l) => l in ALIASES, 'language must be python, javascript, java or r (or py, python3, js, node, nodejs)'),
    v.transform((l) => ALIASES[l]!),
  ),
  'python',
)

