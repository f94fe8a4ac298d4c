/**
 * `agb-micro/local`: AGB Local inside your own tests and scripts (Node.js only). The whole AGB
 * HTTP API on this machine, every session a real sandbox: inject `local.fetch` into a client,
 * or `serve(local)` it on 127.0.0.1, and queue failures with `local.faults.add(...)`.
 * @example
 * import { createAgbLocal, serve } from 'agb-micro/local'
 * const local = createAgbLocal()
 * const server = await serve(local) // server.url: the endpoint, local.apiKey: the key
 * local.faults.add({ route: '/mcp', tool: 'shell', kind: 'status', status: 503, times: 2 })
 * await server.close()
 * await local.close()
 * @module
 */
export { createAgbLocal } from './createAgbLocal.ts'
export { serve } from './serve.ts'
export type { ServeOptions, Server } from './serve.ts'
export type { LocalOss } from './storage/LocalOss.ts'
export type { AgbLocal, AgbLocalOptions, FaultKind, Faults, FaultSpec, Isolation, RecordedRequest, ServePolicy } from './types.ts'
