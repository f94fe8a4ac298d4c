// A user's own test suite: AGB Local starts in beforeAll, the agent runs against it for real
// (a real sandbox, real Python), and injected faults exercise the agent's retry path.
//
//   npx vitest run --config examples/testing/vitest.config.ts
import { createClient, isAgbError } from 'agb-micro'
import type { Client } from 'agb-micro'
import { createAgbLocal, serve } from 'agb-micro/local'
import type { AgbLocal, Server } from 'agb-micro/local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { averageInSandbox } from './agent.ts'

let local: AgbLocal
let server: Server
let client: Client

beforeAll(async () => {
  local = createAgbLocal()
  server = await serve(local) // 127.0.0.1, a free port
  client = createClient({ apiKey: local.apiKey, endpoint: server.url })
})

afterAll(async () => {
  await server.close()
  await local.close() // kills every sandbox process, removes every session directory
})

describe('averageInSandbox', () => {
  it('computes the mean in a sandbox', async () => {
    expect(await averageInSandbox(client, [1, 2, 3, 4])).toEqual({ mean: 2.5, attempts: 1 })
  })

  it('retries when the service answers run_code with 503', async () => {
    local.faults.add({ route: '/mcp', tool: 'run_code', kind: 'status', status: 503, times: 2 })
    expect(await averageInSandbox(client, [10, 20])).toEqual({ mean: 15, attempts: 3 })
    expect(local.faults.pending()).toBe(0)
  })

  it('gives up after three attempts and reports the service error', async () => {
    local.faults.add({ route: '/mcp', tool: 'run_code', kind: 'status', status: 503, times: 3 })
    const error = await averageInSandbox(client, [1]).catch((e: unknown) => e)
    expect(isAgbError(error, 'server_error')).toBe(true)
    expect(local.faults.pending()).toBe(0)
  })

  it('deletes its session even when it fails', async () => {
    local.faults.add({ route: '/mcp', tool: 'run_code', kind: 'status', status: 503, times: 3 })
    await averageInSandbox(client, [1]).catch(() => {})
    expect(local.liveSessions()).toBe(0)
  })
})
