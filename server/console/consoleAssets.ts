import { readFileSync } from 'node:fs'

/** The page's files: served from next to this module (server/console/ from source, dist/local/ once built). */
const FILES: Readonly<Record<string, string>> = {
  'console.html': 'text/html; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
}
const cache = new Map<string, Uint8Array<ArrayBuffer>>()

/**
 * Security headers of every console answer: a strict Content-Security-Policy (the page loads
 * nothing from elsewhere and nothing inline), no framing, no referrer (a sign-in URL must not
 * leak), nothing cached.
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

/** One of the console page's static files, or `undefined` for an unknown name. */
export function consoleAsset(name: string): Response | undefined {
  const type = FILES[name]
  if (!type) return undefined
  let bytes = cache.get(name)
  if (!bytes) {
    bytes = new Uint8Array(readFileSync(new URL(`./${name}`, import.meta.url)))
    cache.set(name, bytes)
  }
  return new Response(bytes, { headers: { ...CONSOLE_HEADERS, 'content-type': type } })
}
