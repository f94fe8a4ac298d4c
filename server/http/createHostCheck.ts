const LOOPBACK_V4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/
const WILDCARD = new Set(['0.0.0.0', '::', '[::]', ''])

/** `host[:port]` as the URL parser normalises it (`0x7f.1` → `127.0.0.1`, `[0::1]` → `[::1]`), or undefined. */
function parseHost(value: string): URL | undefined {
  // Userinfo, paths, queries or spaces have no business in a Host header: `evil@127.0.0.1` is refused, not parsed.
  if (!value || /[\s@/\\?#%]/.test(value)) return undefined
  try {
    const url = new URL(`http://${value}`)
    return url.hostname ? url : undefined
  } catch {
    return undefined
  }
}

function isLoopback(hostname: string): boolean {
  if (hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '[::1]') return true
  const m = LOOPBACK_V4.exec(hostname)
  return !!m && m.slice(1).every((octet) => Number(octet) <= 255)
}

/** An allow-list entry in the parser's form (`::1` → `[::1]`), with its leading dot kept. */
function normalizeEntry(entry: string): string {
  const dot = entry.startsWith('.') ? '.' : ''
  const bare = entry.slice(dot.length).replace(/^\[|\]$/g, '').replace(/\.$/, '')
  const url = parseHost(bare.includes(':') ? `[${bare}]` : bare)
  return url ? `${dot}${url.hostname}` : `${dot}${bare.toLowerCase()}`
}

/**
 * The `Host` check of `serve()`, against DNS rebinding and forged link URLs: returns the
 * request's normalised `host[:port]` when its name is a loopback one (`localhost`,
 * `*.localhost`, `127.x.x.x`, `[::1]`), the address the server listens on (an IP literal
 * cannot be rebound), or an entry of `allowed` (a leading dot also allows subdomains);
 * otherwise `undefined`. A trailing dot is ignored (`localhost.` is `localhost`).
 * @param allowed - Names or addresses without port, e.g. `['agb.lan', '.example.test', '192.168.1.5']`.
 * @param listenHost - The address `serve()` listens on; a wildcard (`0.0.0.0`, `::`) adds nothing.
 * @example
 * const check = createHostCheck(['agb.lan'], '127.0.0.1')
 * check('agb.lan:8787') // 'agb.lan:8787'
 * check('evil.example:8787') // undefined
 */
export function createHostCheck(allowed: readonly string[], listenHost: string): (host: string | undefined) => string | undefined {
  const entries = allowed.map(normalizeEntry)
  const own = WILDCARD.has(listenHost) ? undefined : parseHost(listenHost.includes(':') && !listenHost.startsWith('[') ? `[${listenHost}]` : listenHost)?.hostname
  return (host) => {
    const url = parseHost(host ?? '')
    if (!url) return undefined
    const name = url.hostname.replace(/\.$/, '')
    const ok = isLoopback(name) || name === own ||
      entries.some((e) => (e.startsWith('.') ? name === e.slice(1) || name.endsWith(e) : name === e))
    return ok ? `${name}${url.port ? `:${url.port}` : ''}` : undefined
  }
}
