import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** Cookie carrying a signed-in console's secret (HttpOnly, SameSite=Strict, Path=/console). */
export const CONSOLE_COOKIE = 'agb_console'
const LINK_TTL_MS = 24 * 60 * 60 * 1000
const SESSION_TTL_MS = 12 * 60 * 60 * 1000
/** Unused sign-in links and signed-in browsers kept at once; the oldest go first. */
const MAX_LINKS = 32
const MAX_SESSIONS = 32

/** Sign-in links, cookies and origin checks of the console. */
export interface ConsoleAuth {
  /** A new one-time sign-in URL on `baseUrl` (`<base>/console/login?t=<token>`), valid 24 h or until used. */
  link(baseUrl: string): string
  /** Consumes a sign-in token: the `Set-Cookie` value of a new signed-in browser, or `null`. */
  signIn(token: string | null): string | null
  /** True when the request carries the cookie of a signed-in browser. */
  signedIn(req: Request): boolean
  /**
   * Why a request to the console is refused by its origin, or `null`: any request whose `Origin`
   * is another origin, and a state-changing one that does not prove it comes from the console's
   * own page (same-origin `Origin`, or `Sec-Fetch-Site: same-origin`).
   */
  originRefusal(req: Request, url: URL): string | null
}

const digest = (secret: string) => createHash('sha256').update(secret).digest()

/** Finds `secret` among `kept` (SHA-256 digests) in constant time per entry; removes expired ones. */
function findKept(kept: Map<string, { hash: Buffer; expires: number }>, secret: string): string | undefined {
  const hash = digest(secret)
  const now = Date.now()
  let found: string | undefined
  for (const [key, entry] of kept) {
    if (entry.expires < now) kept.delete(key)
    else if (timingSafeEqual(entry.hash, hash)) found = key
  }
  return found
}

function cookieValue(req: Request): string | undefined {
  for (const part of (req.headers.get('cookie') ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=')
    if (name === CONSOLE_COOKIE) return rest.join('=')
  }
  return undefined
}

/**
 * Creates the console's access control. Only digests of the secrets are kept. A sign-in link
 * works once; the cookie it sets holds a fresh random 32-byte secret, never the API key.
 */
export function createConsoleAuth(): ConsoleAuth {
  const links = new Map<string, { hash: Buffer; expires: number }>()
  const sessions = new Map<string, { hash: Buffer; expires: number }>()
  let n = 0
  const keep = (map: typeof links, max: number, secret: string, ttl: number) => {
    map.set(String(++n), { hash: digest(secret), expires: Date.now() + ttl })
    while (map.size > max) map.delete(map.keys().next().value!)
  }
  return {
    link(baseUrl) {
      const token = randomBytes(32).toString('base64url')
      keep(links, MAX_LINKS, token, LINK_TTL_MS)
      return `${baseUrl.replace(/\/+$/, '')}/console/login?t=${token}`
    },
    signIn(token) {
      if (!token || token.length > 100) return null
      const key = findKept(links, token)
      if (!key) return null
      links.delete(key)
      const secret = randomBytes(32).toString('base64url')
      keep(sessions, MAX_SESSIONS, secret, SESSION_TTL_MS)
      return `${CONSOLE_COOKIE}=${secret}; HttpOnly; SameSite=Strict; Path=/console; Max-Age=${SESSION_TTL_MS / 1000}`
    },
    signedIn(req) {
      const value = cookieValue(req)
      return !!value && value.length <= 100 && findKept(sessions, value) !== undefined
    },
    originRefusal(req, url) {
      const origin = req.headers.get('origin')
      if (origin !== null && origin !== url.origin) return `requests from ${origin} are refused: the console answers its own page only`
      if (req.method === 'GET' || req.method === 'HEAD') return null
      if (origin === url.origin || req.headers.get('sec-fetch-site') === 'same-origin') return null
      return 'a console action must come from the console page (same-origin Origin header)'
    },
  }
}
