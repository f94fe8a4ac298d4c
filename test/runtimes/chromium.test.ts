// Chromium (Debian's /usr/bin/chromium driven by playwright-core): a page served from a second
// loopback server (another port, so another origin than AGB Local) loads the UNBUNDLED dist
// through an import map built from each package's own `exports` (browser/import conditions)
// and runs the flow. Every API call is cross-origin: this is the CORS test.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve, sep } from 'node:path'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, expectFlowSucceeded, requireDist, startLocal } from './harness.ts'
import type { FlowResult, LocalServer } from './harness.ts'

const CHROMIUM = '/usr/bin/chromium'
// Flags from ../shared/TOOLCHAIN.md. playwright adds a fresh temporary --user-data-dir itself
// (and refuses one in `args`); it is removed when the browser closes.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const TIMEOUT_MS = 20_000
// The package's runtime dependencies (ofetch, destr and ufo are bundled into dist/vendor).
const BARE_IMPORTS = ['valibot']
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

function pageHtml(imports: Record<string, string>): string {
  return `<!doctype html>
<meta charset="utf-8">
<title>agb-micro runtime matrix</title>
<script type="importmap">${JSON.stringify({ imports })}</script>
<script type="module">
  // The key travels in the fragment: it never reaches the page server.
  const params = new URLSearchParams(location.hash.slice(1))
  try {
    const { runFlow } = await import('/test/runtimes/fixtures/flow.mjs')
    window.agbResult = await runFlow({ endpoint: params.get('endpoint'), apiKey: params.get('key') })
  } catch (error) {
    window.agbResult = { runtime: 'browser', ok: false, step: 'import', error: { name: error?.name, message: String(error?.message ?? error), stack: String(error?.stack ?? '') }, ms: 0 }
  }
</script>
`
}

// Only what the page needs is served: the built package, the four dependencies, the fixtures.
const SERVED = ['dist/', 'test/runtimes/fixtures/', ...BARE_IMPORTS.map((name) => `node_modules/${name}/`)]
const TYPES: Record<string, string> = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.json': 'application/json', '.map': 'application/json' }

/** Static page server: `/` is the page, other paths map to files under ROOT (allow-listed). */
async function startPageServer(html: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://page.local').pathname)
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

beforeAll(async () => {
  requireDist()
  local = await startLocal()
})

afterAll(async () => {
  await browser?.close()
  if (page) {
    page.server.closeAllConnections()
    await new Promise((ok) => page!.server.close(ok))
  }
  await local?.close()
})

describe('runtime: Chromium', () => {
  it('runs create → runCode → delete through the unbundled dist from another origin (CORS)', async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      const install = 'apt-get update && apt-get install -y --no-install-recommends chromium'
      if (!process.env.CI) {
        console.warn(`[runtimes] SKIPPED Chromium: ${CHROMIUM} is missing (${install}). In CI this fails.`)
        return ctx.skip(`${CHROMIUM} is missing: ${install}`)
      }
      throw new Error(`${CHROMIUM} is missing: the Chromium runtime cannot be skipped in CI. Install it: ${install}`)
    }
    page = await startPageServer(pageHtml(importMap()))
    expect(page.origin).not.toBe(new URL(local.url).origin)

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      timeout: TIMEOUT_MS,
      logger: { isEnabled: (name) => name === 'browser', log: (_name, _severity, message) => void browserLog.push(`[chromium] ${message}`) },
    })
    const tab = await browser.newPage()
    tab.on('console', (m) => browserLog.push(`[console.${m.type()}] ${m.text()}`))
    tab.on('pageerror', (e) => browserLog.push(`[pageerror] ${e.stack ?? e.message}`))
    tab.on('requestfailed', (r) => browserLog.push(`[requestfailed] ${r.method()} ${r.url()}: ${r.failure()?.errorText}`))
    tab.on('response', (r) => void (r.status() >= 400 && browserLog.push(`[http ${r.status()}] ${r.request().method()} ${r.url()}`)))

    let result: FlowResult | undefined
    let failure = ''
    try {
      await tab.goto(`${page.origin}/#${new URLSearchParams({ endpoint: local.url, key: local.apiKey })}`, { timeout: TIMEOUT_MS })
      const handle = await tab.waitForFunction(() => (window as unknown as { agbResult?: unknown }).agbResult, undefined, { timeout: TIMEOUT_MS })
      result = (await handle.jsonValue()) as FlowResult
    } catch (error) {
      failure = `\n--- harness ---\n${(error as Error).message}`
    }
    expectFlowSucceeded(result, 'browser', `Chromium ${browser.version()}, page ${page.origin}${failure}\n--- browser log ---\n${browserLog.join('\n') || '(empty)'}`)

    // The calls really were cross-origin: preflighted, and answered with CORS headers.
    const fromPage = local.local.requests.filter((r) => r.headers.origin === page!.origin)
    expect(fromPage.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual(
      expect.arrayContaining(['OPTIONS /mcp/createSession', 'POST /mcp/createSession', 'POST /mcp', 'POST /mcp/releaseSessionAsync']),
    )
    expect(local.local.liveSessions()).toBe(0)
  })
})
