// Bun (npm package `bun`): the script imports `agb-micro` by name (package self-reference),
// with auto-install and .env loading off so nothing but the flow touches the outside.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FIXTURES, ROOT, killChildren, requireDist, runCliFlow, startLocal } from './harness.ts'
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

describe('runtime: Bun', () => {
  it('runs create → runCode → delete through dist', async () => {
    const args = ['run', '--no-install', '--no-env-file', join(FIXTURES, 'cli.mjs')]
    const { result } = await runCliFlow('bun', BUN, args, server, { BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0', DO_NOT_TRACK: '1' })
    expect(result.version).toMatch(/^1\./)
    expect(server.local.liveSessions()).toBe(0)
  })
})
