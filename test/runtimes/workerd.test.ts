// Cloudflare Workers: a module Worker importing `agb-micro` by name, bundled by esbuild with
// the Workers resolve conditions (as wrangler does), run in workerd through miniflare with NO
// nodejs_compat. The endpoint and key reach the Worker as bindings; workerd's own stdout and
// stderr are captured for failure messages. One Worker serves both flows: `/` the request
// flow, `/stream` the streaming one (WebSocket by `fetch` + `Upgrade`, timed inside workerd,
// whose clock advances with each I/O event, so every frame's arrival is a fresh reading).
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FIXTURES, ROOT, describeTimings, expectFlowSucceeded, expectStreamSucceeded, requireDist, startLocal } from './harness.ts'
import type { FlowResult, LocalServer, StreamResult } from './harness.ts'

// Must not be newer than the workerd build that miniflare 4.20260426.0 ships.
const COMPATIBILITY_DATE = '2026-04-01'

let server: LocalServer
let mf: Miniflare | undefined
let workerdOutput = ''

async function bundleWorker(): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    entryPoints: [join(FIXTURES, 'worker.mjs')],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    metafile: true,
    logLevel: 'silent',
  })
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) }
}

beforeAll(async () => {
  requireDist()
  server = await startLocal()
})

afterAll(async () => {
  await mf?.dispose()
  await server?.close()
})

/** One Miniflare for the file: the Worker bundled once, the bindings pointing at AGB Local. */
async function worker(): Promise<Miniflare> {
  if (mf) return mf
  const { code, inputs } = await bundleWorker()
  // The Worker got the built package and ofetch (a dependency, one web build), not the sources.
  expect(inputs).toContain('dist/index.mjs')
  expect(inputs).toContain('node_modules/ofetch/dist/index.mjs')
  expect(inputs.filter((f) => f.startsWith('src/') || f.includes('ofetch/dist/node'))).toEqual([])
  mf = new Miniflare({
    modules: true,
    script: code,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: [],
    bindings: { AGB_ENDPOINT: server.url, AGB_API_KEY: server.apiKey },
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
      stdout.setEncoding('utf8').on('data', (s: string) => (workerdOutput += s))
      stderr.setEncoding('utf8').on('data', (s: string) => (workerdOutput += s))
    },
  })
  return mf
}

/** Dispatches one request to the Worker; the parsed JSON and the failure context. */
async function call<T>(path: string): Promise<{ result: T | undefined; status: number; context: string }> {
  const response = await (await worker()).dispatchFetch(`http://worker.test${path}`, { signal: AbortSignal.timeout(20_000) })
  const body = await response.text()
  let result: T | undefined
  try {
    result = JSON.parse(body) as T
  } catch {
    result = undefined
  }
  const context = `workerd: HTTP ${response.status}\n--- response ---\n${body.slice(0, 4000)}\n--- workerd stdout/stderr ---\n${workerdOutput.trim() || '(empty)'}`
  return { result, status: response.status, context }
}

describe('runtime: workerd (miniflare)', () => {
  it('runs create → runCode → delete through dist in a bundled Worker without nodejs_compat', async () => {
    const { result, status, context } = await call<FlowResult>('/')
    expectFlowSucceeded(result, 'workerd', context)
    expect(status, context).toBe(200)
    expect(server.local.liveSessions()).toBe(0)
  })

  it('streams python output as it is printed, over a fetch-Upgrade WebSocket, without nodejs_compat', async ({ annotate }) => {
    const { result, status, context } = await call<StreamResult>('/stream')
    const timings = expectStreamSucceeded(result, 'workerd', context)
    expect(status, context).toBe(200)
    expect(result!.transport).toBe('fetch Upgrade')
    // The socket's handshake reached AGB Local with the session token, from workerd.
    const upgrade = server.local.requests.findLast((r) => r.url.endsWith(`/ws/${result!.sessionId}`))
    expect(upgrade?.headers['x-access-token'], context).toMatch(/\S/)
    expect(server.local.liveSessions()).toBe(0)
    await annotate(describeTimings(result!, timings))
  })
})
