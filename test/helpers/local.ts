import { createClient, type Client } from '../../src/index.ts'
import { createAgbLocal, serve } from '../../server/index.ts'
import type { AgbLocal, AgbLocalOptions } from '../../server/index.ts'

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
  if (transport === 'inject') {
    const url = 'http://agb.local'
    return { local, url, client: createClient({ apiKey: local.apiKey, endpoint: url, fetch: local.fetch }), close: () => local.close() }
  }
  const server = await serve(local, { port: 0 })
  return {
    local,
    url: server.url,
    client: createClient({ apiKey: local.apiKey, endpoint: server.url }),
    close: async () => {
      await server.close()
      await local.close()
    },
  }
}

export const IMAGE = 'agb-code-space-1'
