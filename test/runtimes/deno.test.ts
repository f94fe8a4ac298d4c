// Deno (npm package `deno`): the script imports `agb-micro` by name, resolved by Deno's own
// package.json / node_modules support (self-reference, `--node-modules-dir=manual`). The only
// permissions are the network to AGB Local's port and the two env vars; `--cached-only`
// `--no-remote` and a throwaway DENO_DIR mean Deno never reaches a registry.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FIXTURES, ROOT, describeTimings, killChildren, requireDist, runCliFlow, runCliStream, startLocal } from './harness.ts'
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

/** `deno run` with no registry, no remote imports, and the network limited to AGB Local's port (HTTP and WebSocket). */
const denoArgs = (...scriptArgs: string[]) => [
  'run',
  '--node-modules-dir=manual',
  '--cached-only',
  '--no-remote',
  '--no-lock',
  '--no-prompt',
  `--allow-net=127.0.0.1:${server.port}`,
  '--allow-env=AGB_ENDPOINT,AGB_API_KEY',
  join(FIXTURES, 'cli.mjs'),
  ...scriptArgs,
]

describe('runtime: Deno', () => {
  it('runs create → runCode → delete through dist with network limited to 127.0.0.1', async () => {
    const { result } = await runCliFlow('deno', DENO, denoArgs(), server, { DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1' })
    expect(result.version).toMatch(/^2\./)
    expect(server.local.liveSessions()).toBe(0)
  })

  it("streams python output as it is printed through dist (Deno's global WebSocket, same network limit)", async ({ annotate }) => {
    const { result, timings } = await runCliStream('deno', DENO, denoArgs('stream'), server, { DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1' })
    expect(result.transport).toBe('global WebSocket')
    expect(server.local.liveSessions()).toBe(0)
    await annotate(describeTimings(result, timings))
  })
})
