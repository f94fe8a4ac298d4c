import { createHash, timingSafeEqual } from 'node:crypto'

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** Constant-time check of `authorization: Bearer <key>` (the word Bearer, case-insensitive). */
export function checkBearer(header: string | null, apiKey: string): boolean {
  const match = /^Bearer (.+)$/i.exec(header ?? '')
  if (!match?.[1]) return false
  return timingSafeEqual(digest(match[1]), digest(apiKey))
}

/** Constant-time comparison of a session token. */
export function sameSecret(given: string | null | undefined, expected: string): boolean {
  return typeof given === 'string' && given.length > 0 && timingSafeEqual(digest(given), digest(expected))
}
