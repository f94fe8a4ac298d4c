import { format, inspect } from 'node:util'
import type { RecordedRequest } from '../../server/index.ts'

/** A secret and where it may legitimately appear in a recorded request. */
export interface Secret {
  name: string
  value: string
  /** Allowed only as this header's exact value, on requests `where` accepts. */
  allowedIn?: { header: string; value: (secret: string) => string; where: (url: URL) => boolean }
}

/** The forms a secret can leak in: as is, URL-encoded, base64 (e.g. inside Basic auth). */
export function forms(value: string): string[] {
  return [...new Set([value, encodeURIComponent(value), btoa(value), Buffer.from(value).toString('base64url')])]
}

/** API routes carry the API key; presigned (`/oss/`), session host (`/link/`, `/ws/`, `/resource/`) routes never do. */
export const isApiRoute = (url: URL) => !/^\/(oss|link|ws|resource)\//.test(url.pathname)

/** Every place in a recorded request a secret appears where it must not: `[]` when clean. */
export function requestLeaks(requests: Iterable<RecordedRequest>, secrets: Secret[]): string[] {
  const found: string[] = []
  for (const r of requests) {
    const url = new URL(r.url)
    const where = `${r.method} ${url.pathname}`
    for (const secret of secrets) {
      for (const form of forms(secret.value)) {
        if (r.url.includes(form)) found.push(`${secret.name} in the URL of ${where}`)
        if (r.body.includes(form)) found.push(`${secret.name} in the body of ${where}`)
        for (const [name, value] of Object.entries(r.headers)) {
          if (!value.includes(form)) continue
          const allowed = secret.allowedIn
          if (allowed && name === allowed.header && allowed.where(url) && value === allowed.value(secret.value)) continue
          found.push(`${secret.name} in header ${name} of ${where}`)
        }
      }
    }
  }
  return found
}

/** Every way an error is commonly shown or logged. */
export function renderings(error: unknown): Record<string, string> {
  const e = error as Error
  const safe = (f: () => string) => {
    try {
      return f()
    } catch (x) {
      return `<threw ${String(x)}>`
    }
  }
  return {
    message: safe(() => String(e?.message)),
    stack: safe(() => String(e?.stack)),
    string: safe(() => String(error)),
    json: safe(() => JSON.stringify(error) ?? ''),
    inspect: safe(() => inspect(error, { depth: 5, showHidden: false })),
    'console.log': safe(() => format(error)),
    'console.log %s': safe(() => format('%s', error)),
    'console.log %O': safe(() => format('%O', error)),
  }
}

/** Renderings of `value` (formatted any way) that contain one of the secrets. */
export function shownSecrets(label: string, shown: Record<string, string>, secrets: Secret[]): string[] {
  const found: string[] = []
  for (const [how, text] of Object.entries(shown)) {
    for (const secret of secrets) for (const form of forms(secret.value)) if (text.includes(form)) found.push(`${secret.name} in ${how} of ${label}`)
  }
  return found
}

/**
 * Walks everything reachable from `root` through own properties (enumerable or not, getters
 * called), `cause` chains, arrays, Maps and Headers, and lists the paths whose string value
 * contains a secret. What a logger that serialises whole error objects could print.
 */
export function reachableSecrets(root: unknown, secrets: Secret[], maxDepth = 8): string[] {
  const found: string[] = []
  const seen = new Set<unknown>()
  const visit = (value: unknown, path: string, depth: number) => {
    if (typeof value === 'string') {
      for (const secret of secrets) if (forms(secret.value).some((f) => value.includes(f))) found.push(`${secret.name} at ${path}`)
      return
    }
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value) || depth > maxDepth) return
    seen.add(value)
    if (typeof Headers !== 'undefined' && value instanceof Headers) {
      value.forEach((v, k) => visit(v, `${path}.headers[${k}]`, depth + 1))
      return
    }
    if (value instanceof Map) {
      for (const [k, v] of value) visit(v, `${path}[${String(k)}]`, depth + 1)
      return
    }
    if (typeof value === 'function') return
    for (const key of Reflect.ownKeys(value)) {
      if (typeof key === 'symbol') continue
      let child: unknown
      try {
        child = (value as Record<string, unknown>)[key]
      } catch {
        continue
      }
      visit(child, `${path}.${key}`, depth + 1)
    }
  }
  visit(root, 'error', 0)
  return found
}
