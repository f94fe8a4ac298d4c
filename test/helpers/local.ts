import { createClient, createSession, deleteSession, type Client, type Session } from '../../src/index.ts'
import { createAgbLocal, serve } from '../../server/index.ts'
import type { AgbLocal, AgbLocalOptions } from '../../server/index.ts'
import { isApiRoute, requestLeaks, type Secret } from './secretScan.ts'

export type Transport = 'inject' | 'loopback'
export const TRANSPORTS: Transport[] = ['inject', 'loopback']

export interface LocalHarness {
  local: AgbLocal
  client: Client
  url: string
  close(): Promise<void>
}

/**
 * A fresh AGB Local and a client talking to it: through the injected handler (no sockets)
 * or over a real loopback HTTP server.
 */
export async function startLocal(transport: Transport, options: AgbLocalOptions = {}): Promise<LocalHarness> {
  const local = createAgbLocal(options)
  const leaks = watchForKeyLeaks(local)
  if (transport === 'inject') {
    const url = 'http://agb.local'
    return { local, url, client: createClient({ apiKey: local.apiKey, endpoint: url, fetch: local.fetch }), close: () => local.close().then(leaks) }
  }
  const server = await serve(local, { port: 0 })
  return {
    local,
    url: server.url,
    client: createClient({ apiKey: local.apiKey, endpoint: server.url }),
    close: async () => {
      await server.close()
      await local.close()
      leaks()
    },
  }
}

export const IMAGE = 'agb-code-space-1'

/**
 * Every suite on this harness is also a secret scan: each request AGB Local records is checked
 * as it arrives, and closing the harness fails if the API key went anywhere but the
 * `authorization` header of an API route (never a URL, a body, a presigned or session-host request).
 */
function watchForKeyLeaks(local: AgbLocal): () => void {
  const found: string[] = []
  const secrets: Secret[] = [
    { name: 'API key', value: local.apiKey, allowedIn: { header: 'authorization', value: (k) => `Bearer ${k}`, where: isApiRoute } },
  ]
  const push = local.requests.push.bind(local.requests)
  local.requests.push = (...items) => {
    found.push(...requestLeaks(items, secrets))
    return push(...items)
  }
  return () => {
    if (found.length) throw new Error(`API key leaked: ${[...new Set(found)].join('; ')}`)
  }
}

/** A fresh AGB Local with one session in it, for suites that share a session. */
export async function openLocalSession(transport: Transport): Promise<{ h: LocalHarness; session: Session }> {
  const h = await startLocal(transport)
  return { h, session: await createSession(h.client, { imageId: IMAGE }) }
}

/** Deletes the suite's session and closes its AGB Local. */
export async function closeLocalSession(h: LocalHarness, session: Session): Promise<void> {
  await deleteSession(h.client, session).catch(() => undefined)
  await h.close()
}

/** `n` random bytes (getRandomValues fills at most 64 KiB a call). */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(n)
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(n, i + 65536)))
  return bytes
}
