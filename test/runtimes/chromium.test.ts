// Chromium (Debian's /usr/bin/chromium driven by playwright-core): a page served from a second
// loopback server (another port, so another origin than AGB Local) loads the UNBUNDLED dist
// through an import map built from each package's own `exports` (browser/import conditions).
// The request flow calls AGB Local directly: every API call is cross-origin, the CORS test.
// The streaming flow cannot (a browser WebSocket cannot send the token header): the page
// server also mounts the BUILT `agb-micro/proxy` handler at `/agb` on the page's own origin,
// with AGB Local as its upstream, and the keyless page streams through it (NDJSON over fetch).
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve, sep } from 'node:path'
import { Readable } from 'node:stream'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestContext } from 'vitest'
import { WebSocket as WsWebSocket } from 'ws'
import { CHROMIUM, CHROMIUM_ARGS, ROOT, describeTimings, expectFlowSucceeded, expectStreamSucceeded, requireChromium, requireDist, startLocal } from './harness.ts'
import type { FlowResult, LocalServer, StreamResult } from './harness.ts'

const TIMEOUT_MS = 20_000
// The package's runtime dependencies, each mapped to its browser ESM entry.
const BARE_IMPORTS = ['valibot', 'ofetch']
const BROWSER_CONDITIONS = ['browser', 'import', 'default']

/** Picks the file an `exports` entry gives the browser, the way a browser-targeting bundler would. */
function pickExport(target: unknown): string | undefined {
  if (typeof target === 'string') return target
  if (!target || typeof target !== 'object' || Array.isArray(target)) return undefined
  for (const [condition, value] of Object.entries(target)) {
    if (!BROWSER_CONDITIONS.includes(condition)) continue
    const picked = pickExport(value)
    if (picked) return picked
  }
  return undefined
}

/** URL path (on the page server) of a package's browser ESM entry. */
function entryPath(packageDir: string): string {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { name: string; exports?: unknown; module?: string }
  const exportsDot = pkg.exports && typeof pkg.exports === 'object' && '.' in pkg.exports ? (pkg.exports as Record<string, unknown>)['.'] : pkg.exports
  const file = pickExport(exportsDot) ?? pkg.module
  if (!file) throw new Error(`${pkg.name}: no browser/import entry in package.json`)
  const absolute = resolve(packageDir, file)
  if (!existsSync(absolute)) throw new Error(`${pkg.name}: entry ${file} does not exist`)
  return `/${absolute.slice(ROOT.length + 1).split(sep).join('/')}`
}

function importMap(): Record<string, string> {
  const imports: Record<string, string> = { 'agb-micro': entryPath(ROOT) }
  for (const name of BARE_IMPORTS) imports[name] = entryPath(join(ROOT, 'node_modules', name))
  return imports
}

/** Where the page server mounts the proxy (same origin as the page). */
const PROXY_BASE = '/agb'

function pageHtml(imports: Record<string, string>): string {
  return `<!doctype html>
<meta charset="utf-8">
<title>agb-micro runtime matrix</title>
<script type="importmap">${JSON.stringify({ imports })}</script>
<script type="module">
  // The fragment says which flow; the key (request flow only) travels there too, so it never
  // reaches the page server. The streaming flow holds no key: it talks to the proxy.
  const params = new URLSearchParams(location.hash.slice(1))
  try {
    if (params.get('mode') === 'stream') {
      const { runStream } = await import('/test/runtimes/fixtures/stream.mjs')
      window.agbResult = await runStream({ endpoint: '${PROXY_BASE}', proxy: true, transport: 'proxy' })
    } else {
      const { runFlow } = await import('/test/runtimes/fixtures/flow.mjs')
      window.agbResult = await runFlow({ endpoint: params.get('endpoint'), apiKey: params.get('key') })
    }
  } catch (error) {
    window.agbResult = { runtime: 'browser', ok: false, step: 'import', error: { name: error?.name, message: String(error?.message ?? error), stack: String(error?.stack ?? '') }, ms: 0 }
  }
</script>
`
}

type Handler = (request: Request) => Promise<Response>

/** Node's request → a web Request, and the (streamed) web Response back, chunk by chunk. */
async function toWeb(req: IncomingMessage, res: ServerResponse, handler: Handler): Promise<void> {
  const controller = new AbortController()
  res.on('close', () => controller.abort())
  const request = new Request(`http://${req.headers.host}${req.url}`, {
    method: req.method,
    headers: Object.entries(req.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as [string, string]])),
    ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' }),
    signal: controller.signal,
  } as RequestInit)
  const response = await handler(request)
  res.writeHead(response.status, Object.fromEntries(response.headers))
  if (!response.body) return void res.end()
  const reader = response.body.getReader()
  for (let r = await reader.read(); !r.done; r = await reader.read()) res.write(r.value)
  res.end()
}

// Only what the page needs is served: the built package, the four dependencies, the fixtures.
const SERVED = ['dist/', 'test/runtimes/fixtures/', ...BARE_IMPORTS.map((name) => `node_modules/${name}/`)]
const TYPES: Record<string, string> = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.json': 'application/json', '.map': 'application/json' }

/** Page server: `/` is the page, `/agb/*` the proxy, other paths map to files under ROOT (allow-listed). */
async function startPageServer(html: string, proxy: Handler, proxied: string[]): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://page.local').pathname)
    if (path.startsWith(`${PROXY_BASE}/`)) {
      proxied.push(`${req.method} ${path}`)
      return void toWeb(req, res, proxy).catch((error: Error) => {
        browserLog.push(`[proxy] ${req.method} ${path}: ${error.stack ?? error.message}`)
        res.destroy()
      })
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      return void res.end(html)
    }
    const file = resolve(ROOT, `.${path}`)
    const relative = file.slice(ROOT.length + 1).split(sep).join('/')
    const allowed = file.startsWith(ROOT + sep) && SERVED.some((prefix) => relative.startsWith(prefix))
    if (!allowed || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' })
      return void res.end(`not found: ${path}`)
    }
    const ext = file.slice(file.lastIndexOf('.'))
    res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream', 'cache-control': 'no-store' })
    createReadStream(file).pipe(res)
  })
  await new Promise<void>((ok, fail) => {
    server.once('error', fail)
    server.listen(0, '127.0.0.1', ok)
  })
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

let local: LocalServer
let page: { server: Server; origin: string } | undefined
let browser: Browser | undefined
const browserLog: string[] = []
/** Requests the proxy received (`METHOD /agb/...`). */
const proxied: string[] = []

beforeAll(async () => {
  requireDist()
  local = await startLocal()
  // The BUILT proxy (package self-reference), with AGB Local upstream. Node < 22 has no global
  // WebSocket for the proxy's upstream stream: `ws`'s, as a Node 20 user would pass.
  const { createProxyHandler } = await import('agb-micro/proxy')
  const major = Number(process.versions.node.split('.')[0])
  const webSocket = major < 22 || !(globalThis as { WebSocket?: unknown }).WebSocket ? (WsWebSocket as never) : undefined
  const proxy = createProxyHandler({ apiKey: local.apiKey, endpoint: local.url, public: true, basePath: PROXY_BASE, ...(webSocket ? { webSocket } : {}) })
  page = await startPageServer(pageHtml(importMap()), proxy, proxied)
  expect(page.origin).not.toBe(new URL(local.url).origin)
})

afterAll(async () => {
  await browser?.close()
  if (page) {
    page.server.closeAllConnections()
    await new Promise((ok) => page!.server.close(ok))
  }
  await local?.close()
})

/** The browser, launched once; skips the test locally (fails in CI) when Chromium is missing. */
async function launch(ctx: TestContext): Promise<Browser> {
  requireChromium(ctx.skip)
  browser ??= await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    timeout: TIMEOUT_MS,
    logger: { isEnabled: (name) => name === 'browser', log: (_name, _severity, message) => void browserLog.push(`[chromium] ${message}`) },
  })
  return browser
}

/** Opens the page with `fragment`, waits for `window.agbResult`; the result and the failure context. */
async function runPage<T>(b: Browser, fragment: URLSearchParams): Promise<{ result: T | undefined; context: string }> {
  const tab = await b.newPage()
  tab.on('console', (m) => browserLog.push(`[console.${m.type()}] ${m.text()}`))
  tab.on('pageerror', (e) => browserLog.push(`[pageerror] ${e.stack ?? e.message}`))
  tab.on('requestfailed', (r) => browserLog.push(`[requestfailed] ${r.method()} ${r.url()}: ${r.failure()?.errorText}`))
  tab.on('response', (r) => void (r.status() >= 400 && browserLog.push(`[http ${r.status()}] ${r.request().method()} ${r.url()}`)))
  let result: T | undefined
  let failure = ''
  try {
    await tab.goto(`${page!.origin}/#${fragment}`, { timeout: TIMEOUT_MS })
    const handle = await tab.waitForFunction(() => (window as unknown as { agbResult?: unknown }).agbResult, undefined, { timeout: TIMEOUT_MS })
    result = (await handle.jsonValue()) as T
  } catch (error) {
    failure = `\n--- harness ---\n${(error as Error).message}`
  } finally {
    await tab.close()
  }
  return { result, context: `Chromium ${b.version()}, page ${page!.origin}${failure}\n--- browser log ---\n${browserLog.join('\n') || '(empty)'}` }
}

describe('runtime: Chromium', () => {
  it('runs create → runCode → delete through the unbundled dist from another origin (CORS)', async (ctx) => {
    const b = await launch(ctx)
    const { result, context } = await runPage<FlowResult>(b, new URLSearchParams({ endpoint: local.url, key: local.apiKey }))
    expectFlowSucceeded(result, 'browser', context)

    // The calls really were cross-origin: preflighted, and answered with CORS headers.
    const fromPage = local.local.requests.filter((r) => r.headers.origin === page!.origin)
    expect(fromPage.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual(
      expect.arrayContaining(['OPTIONS /mcp/createSession', 'POST /mcp/createSession', 'POST /mcp', 'POST /mcp/releaseSessionAsync']),
    )
    expect(local.local.liveSessions()).toBe(0)
  })

  it('streams python output as it is printed, keyless, through agb-micro/proxy on the page origin', async (ctx) => {
    const b = await launch(ctx)
    const before = local.local.requests.length
    proxied.length = 0
    const { result, context } = await runPage<StreamResult>(b, new URLSearchParams({ mode: 'stream' }))
    const timings = expectStreamSucceeded(result, 'browser', `${context}\n--- proxy requests ---\n${proxied.join('\n')}`)
    expect(result!.transport).toBe('proxy')

    // The page only talked to its own origin's proxy, which held the key and streamed NDJSON;
    // the page's session id is the proxy's signed one, the upstream the proxy's WebSocket.
    // (deleteSession then polls getSessionInfo until the release is confirmed.)
    expect(proxied.slice(0, 3)).toEqual(['POST /agb/mcp/createSession', 'POST /agb/agb-micro/stream', 'POST /agb/mcp/releaseSessionAsync'])
    const upstream = local.local.requests.slice(before)
    expect(upstream.filter((r) => r.headers.origin !== undefined)).toEqual([])
    const [id, signature] = result!.sessionId!.split('~')
    expect(signature).toMatch(/\S/)
    expect(upstream.find((r) => r.url.endsWith(`/ws/${id}`))?.headers['x-access-token']).toMatch(/\S/)
    expect(local.local.liveSessions()).toBe(0)
    await ctx.annotate(describeTimings(result!, timings))
  })
})
