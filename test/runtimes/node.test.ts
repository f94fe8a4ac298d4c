// Node: the built package imported by name (`agb-micro`, package self-reference) from a plain
// .mjs script, on the Node that runs the tests (the user's own; CI: system Node 20, the engines
// floor) and on Node 24. Node 24 is fetched once into .tmp/node24/ (scripts/node24.mjs) and run
// by its path: it is a Linux x64 binary, so elsewhere its tests are skipped with the reason
// (locally also when the fetch failed; in CI a failed fetch fails them). Streaming uses Node
// 22+'s global WebSocket, and on Node 20 (none) the `ws` constructor passed to createClient.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureNode24, NODE24_VERSION } from '../../scripts/node24.mjs'
import { FIXTURES, describeTimings, killChildren, requireDist, runCliFlow, runCliStream, startLocal } from './harness.ts'
import type { LocalServer } from './harness.ts'

const ownMajor = Number(process.versions.node.split('.')[0])
const NODES: Array<{ name: string; bin: () => string; major: number; webSocket: string }> = [
  { name: `the Node running the tests (${process.version})`, bin: () => process.execPath, major: ownMajor, webSocket: ownMajor >= 22 ? 'global WebSocket' : 'ws' },
  { name: `Node ${NODE24_VERSION} (.tmp/node24)`, bin: node24, major: 24, webSocket: 'global WebSocket' },
]

let node24Reason: string | undefined
/** The Node 24 binary, or skips the calling test with the reason (fails in CI on Linux x64). */
function node24(): string {
  const got = ensureNode24()
  if (got.bin) return got.bin
  node24Reason = got.reason
  throw new Error(`Node ${NODE24_VERSION} is not available: ${got.reason}`)
}

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
    it(`runs create → runCode → delete through dist on ${node.name}`, async ({ skip }) => {
      const bin = resolveBin(node.bin, skip)
      const { result } = await runCliFlow('node', bin, [join(FIXTURES, 'cli.mjs')], server)
      expect(result.version.split('.')[0]).toBe(String(node.major))
      expect(server.local.liveSessions()).toBe(0)
    })

    it(`streams python output as it is printed through dist on ${node.name}`, async ({ annotate, skip }) => {
      const bin = resolveBin(node.bin, skip)
      const { result, timings } = await runCliStream('node', bin, [join(FIXTURES, 'cli.mjs'), 'stream'], server)
      expect(result.version.split('.')[0]).toBe(String(node.major))
      expect(result.transport).toBe(node.webSocket)
      expect(server.local.liveSessions()).toBe(0)
      await annotate(describeTimings(result, timings))
    })
  }
})

/**
 * Runs `bin()`; when Node 24 is unavailable the test is skipped with the reason (counted as
 * skipped, never passed) — except in CI on Linux x64, where the matrix must run and the test fails.
 */
function resolveBin(bin: () => string, skip: (note: string) => never): string {
  try {
    return bin()
  } catch (e) {
    const platformMatches = process.platform === 'linux' && process.arch === 'x64'
    if (node24Reason && !(process.env.CI && platformMatches)) {
      console.warn(`[runtimes] SKIPPED Node ${NODE24_VERSION}: ${node24Reason}`)
      skip(node24Reason)
    }
    throw e
  }
}
