// Bun (npm package `bun`): the script imports `agb-micro` by name (package self-reference),
// with auto-install and .env loading off so nothing but the flow touches the outside.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FIXTURES, ROOT, describeTimings, killChildren, requireDist, runCliFlow, runCliStream, startLocal } from './harness.ts'
import type { LocalServer } from './harness.ts'

const BUN = join(ROOT, 'node_modules/.bin/bun')

let server: LocalServer

beforeAll(async () => {
  requireDist()
  server = await startLocal()
})

afterAll(async () => {
  killChildren()
  await server?.close()
})

const ARGS = ['run', '--no-install', '--no-env-file', join(FIXTURES, 'cli.mjs')]
const ENV = { BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0', DO_NOT_TRACK: '1' }

describe('runtime: Bun', () => {
  it('runs create → runCode → delete through dist', async () => {
    const { result } = await runCliFlow('bun', BUN, ARGS, server, ENV)
    expect(result.version).toMatch(/^1\./)
    expect(server.local.liveSessions()).toBe(0)
  })

  it("streams python output as it is printed through dist (Bun's global WebSocket)", async ({ annotate }) => {
    const { result, timings } = await runCliStream('bun', BUN, [...ARGS, 'stream'], server, ENV)
    expect(result.transport).toBe('global WebSocket')
    expect(server.local.liveSessions()).toBe(0)
    await annotate(describeTimings(result, timings))
  })
})
