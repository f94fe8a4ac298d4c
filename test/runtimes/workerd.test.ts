// Cloudflare Workers: a module Worker importing `agb-micro` by name, bundled by esbuild with
// the Workers resolve conditions (as wrangler does), run in workerd through miniflare with NO
// nodejs_compat. The endpoint and key reach the Worker as bindings; workerd's own stdout and
// stderr are captured for failure messages.
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FIXTURES, ROOT, expectFlowSucceeded, requireDist, startLocal } from './harness.ts'
import type { FlowResult, LocalServer } from './harness.ts'

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

describe('runtime: workerd (miniflare)', () => {
  it('runs create → runCode → delete through dist in a bundled Worker without nodejs_compat', async () => {
    const { code, inputs } = await bundleWorker()
    // The Worker got the built package with ofetch's web build bundled in, not the sources or ofetch's node.mjs.
    expect(inputs).toContain('dist/index.mjs')
    expect(inputs.some((f) => f.startsWith('dist/vendor/ofetch/'))).toBe(true)
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
    const response = await mf.dispatchFetch('http://worker.test/', { signal: AbortSignal.timeout(20_000) })
    const body = await response.text()
    let result: FlowResult | undefined
    try {
      result = JSON.parse(body) as FlowResult
    } catch {
      result = undefined
    }
    const context = `workerd: HTTP ${response.status}\n--- response ---\n${body.slice(0, 4000)}\n--- workerd stdout/stderr ---\n${workerdOutput.trim() || '(empty)'}`
    expectFlowSucceeded(result, 'workerd', context)
    expect(response.status, context).toBe(200)
    expect(server.local.liveSessions()).toBe(0)
  })
})
