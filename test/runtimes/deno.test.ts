// Deno (npm package `deno`): the script imports `agb-micro` by name, resolved by Deno's own
// package.json / node_modules support (self-reference, `--node-modules-dir=manual`). The only
// permissions are the network to AGB Local's port and the two env vars; `--cached-only`
// `--no-remote` and a throwaway DENO_DIR mean Deno never reaches a registry.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FIXTURES, ROOT, killChildren, requireDist, runCliFlow, startLocal } from './harness.ts'
import type { LocalServer } from './harness.ts'

const DENO = join(ROOT, 'node_modules/.bin/deno')

let server: LocalServer
let denoDir: string

beforeAll(async () => {
  requireDist()
  server = await startLocal()
  denoDir = mkdtempSync(join(tmpdir(), 'agb-deno-'))
})

afterAll(async () => {
  killChildren()
  await server?.close()
  if (denoDir) rmSync(denoDir, { recursive: true, force: true })
})

describe('runtime: Deno', () => {
  it('runs create → runCode → delete through dist with network limited to 127.0.0.1', async () => {
    const args = [
      'run',
      '--node-modules-dir=manual',
      '--cached-only',
      '--no-remote',
      '--no-lock',
      '--no-prompt',
      `--allow-net=127.0.0.1:${server.port}`,
      '--allow-env=AGB_ENDPOINT,AGB_API_KEY',
      join(FIXTURES, 'cli.mjs'),
    ]
    const { result } = await runCliFlow('deno', DENO, args, server, { DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1' })
    expect(result.version).toMatch(/^2\./)
    expect(server.local.liveSessions()).toBe(0)
  })
})
