import { execFile } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal, serve } from '../../server/index.ts'
import type { Server } from '../../server/index.ts'
import { createClient, createSession, deleteSession, getCdpLink, initBrowser, isAgbError } from '../../src/index.ts'
import { localClient, pidsMatching, waitFor } from './localClient.ts'

const local = createAgbLocal()
let server: Server
let api: ReturnType<typeof localClient>
beforeAll(async () => {
  server = await serve(local)
  api = localClient(local, server.url)
})
afterAll(async () => {
  await server?.close()
  await local.close()
})

/** A browser-use session with its browser started; `marker` in the profile path finds its processes. */
async function browserSession(marker = `profile-${Math.random().toString(36).slice(2)}`) {
  const id = await api.createSession({}, 'agb-browser-use-1')
  const init = await api.post(`/browser/init?sessionId=${id}&persistentPath=/tmp/${marker}`, {})
  expect(init.json, JSON.stringify(init.json)).toMatchObject({ success: true, data: { port: server.port } })
  const link = await api.post(`/internet/getCdpLink?sessionId=${id}`, {})
  expect(link.json.success).toBe(true)
  return { id, url: link.json.data.url as string, marker }
}

/** The upgrade answer for a DevTools URL: 101 when a client may connect, else the HTTP status. */
async function upgradeStatus(url: string): Promise<number> {
  const { WebSocket } = await import('ws')
  return new Promise((resolve) => {
    const ws = new WebSocket(url)
    ws.once('open', () => {
      ws.close()
      resolve(101)
    })
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.once('error', () => resolve(0))
  })
}

describe('browser sessions', { timeout: 180_000 }, () => {
  it('are driven by Playwright over CDP: navigate to a page AGB Local serves, read its title, take a screenshot', async () => {
    const { id, url } = await browserSession()
    expect(url).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${server.port}/cdp/${id}/devtools/browser/[0-9a-f]{32}$`))
    const browser = await chromium.connectOverCDP(url)
    try {
      const page = await browser.contexts()[0]!.newPage()
      await page.setViewportSize({ width: 640, height: 480 }) // tells its screenshots apart from other pages'
      await page.goto(`${server.url}/local/test-page`)
      expect(await page.title()).toBe('AGB Local test page')
      expect(await page.textContent('#greeting')).toBe('Hello from AGB Local')
      const png = await page.screenshot()
      expect(png.subarray(1, 4).toString()).toBe('PNG')
      // The screenshot tool shows the page the client drove last.
      const shot = await api.callTool(id, 'screenshot', { format: 'png' })
      expect(shot.isError).toBe(false)
      expect(shot.doc).toMatchObject({ type: 'image', mime_type: 'image/png', width: 640, height: 480 })
      expect(Buffer.from(shot.doc!.data, 'base64').subarray(1, 4).toString()).toBe('PNG')
      const jpeg = await api.callTool(id, 'screenshot', { format: 'jpeg' })
      expect(jpeg.doc).toMatchObject({ type: 'image', mime_type: 'image/jpeg' })
      expect(Buffer.from(jpeg.doc!.data, 'base64').subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]))
      // With two pages open, it follows the one driven last.
      const other = await browser.contexts()[0]!.newPage()
      await other.setViewportSize({ width: 500, height: 300 })
      await other.goto('data:text/html,<title>other</title>')
      const front = await api.callTool(id, 'screenshot', {})
      expect(front.doc, front.text).toMatchObject({ width: 500, height: 300 })
      await page.evaluate(() => 1)
      const back = await api.callTool(id, 'screenshot', {})
      expect(back.doc, back.text).toMatchObject({ width: 640, height: 480 })
      // Playwright keeps working after AGB Local's own DevTools commands, and never saw them.
      expect(await page.evaluate(() => document.title)).toBe('AGB Local test page')
      expect(browser.contexts().flatMap((c) => c.pages())).toContain(page)
    } finally {
      await browser.close()
    }
  })

  it('works through the SDK: initBrowser, getCdpLink, Playwright', async () => {
    const client = createClient({ apiKey: local.apiKey, endpoint: server.url })
    const session = await createSession(client, { imageId: 'agb-browser-use-1' })
    try {
      expect(await initBrowser(client, session, { browserOption: { userAgent: 'agb-local-test-agent', viewport: { width: 800, height: 600 } } })).toEqual({ port: server.port })
      expect(await initBrowser(client, session)).toEqual({ port: server.port }) // already running: harmless
      const browser = await chromium.connectOverCDP(await getCdpLink(client, session))
      const page = browser.contexts()[0]!.pages()[0] ?? (await browser.contexts()[0]!.newPage())
      expect(await page.evaluate(() => navigator.userAgent)).toBe('agb-local-test-agent')
      await browser.close()
    } finally {
      await deleteSession(client, session)
    }
  })

  it('initBrowser sends what the official SDKs send, checks its input first, and refuses an answer without a port', async () => {
    const client = createClient({ apiKey: local.apiKey, endpoint: server.url })
    const { id } = await browserSession()
    await initBrowser(client, id, { browserOption: { userAgent: 'x' } })
    const sent = local.requests.filter((r) => new URL(r.url).pathname === '/browser/init').at(-1)!
    const q = new URL(sent.url).searchParams
    expect([q.get('sessionId'), q.get('persistentPath'), q.get('browserOption')]).toEqual([id, '/tmp/agb_browser_data', '{"userAgent":"x"}'])
    expect([sent.method, sent.body]).toEqual(['POST', '{}'])
    const before = local.requests.length
    for (const bad of [{ persistentPath: ' ' }, { browserOption: 'x' as never }]) {
      expect(isAgbError(await initBrowser(client, id, bad).catch((e: unknown) => e), 'invalid_input'), JSON.stringify(bad)).toBe(true)
    }
    expect(local.requests.length).toBe(before) // nothing sent
    local.faults.add({ route: '/browser/init', kind: 'schema' })
    const error = await initBrowser(client, id).catch((e: unknown) => e)
    expect(isAgbError(error, 'invalid_response')).toBe(true)
    expect((error as Error).message).toMatch(/initBrowser/)
  })

  it('runs Chromium inside the session sandbox: it sees the session files, not the host', async () => {
    const { id, url } = await browserSession()
    await api.shell(id, 'echo sandbox-file-7c1 > /home/user/note.txt')
    const browser = await chromium.connectOverCDP(url)
    try {
      const page = await browser.contexts()[0]!.newPage()
      await page.goto('file:///home/user/note.txt')
      expect(await page.textContent('body')).toContain('sandbox-file-7c1')
      await page.goto('file:///etc/passwd')
      const passwd = (await page.textContent('body')) ?? ''
      expect(passwd).toContain('user:x:1000')
      expect(passwd).not.toMatch(/^(daemon|bin|sys|www-data):/m) // host accounts
    } finally {
      await browser.close()
    }
  })

  it('is gone with its session: processes killed, the DevTools client disconnected, the URL dead', async () => {
    const { id, url, marker } = await browserSession()
    expect(pidsMatching(marker).length).toBeGreaterThan(0)
    expect(local.sessionProcessCount(id)).toBeGreaterThan(0)
    const browser = await chromium.connectOverCDP(url)
    const disconnected = new Promise<void>((resolve) => browser.once('disconnected', () => resolve()))
    await api.post('/mcp/releaseSessionAsync', { sessionId: id })
    await disconnected
    await waitFor(() => pidsMatching(marker).length === 0, 60_000)
    expect(await upgradeStatus(url)).toBe(404)
  })

  it('refuses a wrong secret, another session id and a second concurrent client', async () => {
    const a = await browserSession()
    const b = await browserSession()
    const secretA = a.url.split('/').pop()!
    expect(await upgradeStatus(a.url.replace(secretA, '0'.repeat(32)))).toBe(404)
    expect(await upgradeStatus(a.url.replace(/[0-9a-f]{32}$/, b.url.split('/').pop()!))).toBe(404) // b's secret on a's browser
    expect(await upgradeStatus(b.url.replace(`/cdp/${b.id}/`, `/cdp/${a.id}/`))).toBe(404)
    const first = await chromium.connectOverCDP(a.url)
    try {
      expect(await upgradeStatus(a.url)).toBe(409)
    } finally {
      await first.close()
    }
    await waitFor(async () => (await upgradeStatus(a.url)) === 101, 60_000) // free again once the first left
  })

  it('stops with stopChrome and starts again with /browser/init', async () => {
    const { id, url, marker } = await browserSession()
    const stop = await api.callTool(id, 'stopChrome', {})
    expect(stop.isError).toBe(false)
    await waitFor(() => pidsMatching(marker).length === 0, 60_000)
    expect(await upgradeStatus(url)).toBe(404)
    const link = await api.post(`/internet/getCdpLink?sessionId=${id}`, {})
    expect(link.json).toMatchObject({ success: false, code: 'BrowserNotStarted' })
    expect(link.json.message).toMatch(/browser\/init/)
    expect((await api.callTool(id, 'screenshot', {})).text).toMatch(/not running/)
    expect((await api.post(`/browser/init?sessionId=${id}`, {})).json.success).toBe(true)
    const again = (await api.post(`/internet/getCdpLink?sessionId=${id}`, {})).json.data.url as string
    expect(again).not.toBe(url) // a new secret per browser
    const browser = await chromium.connectOverCDP(again)
    expect(browser.isConnected()).toBe(true)
    await browser.close()
  })

  it("runs the README's Playwright example against AGB Local (agb-micro as users import it)", async () => {
    const root = join(import.meta.dirname, '../..')
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    const block = /<!-- agb-local-browser-example -->\n```ts\n([\s\S]*?)\n```/.exec(readme)?.[1]
    expect(block).toContain('connectOverCDP')
    // Inside the repository, so `agb-micro` resolves to the built package by its name.
    const file = join(root, `.tmp-readme-browser-${process.pid}.ts`)
    writeFileSync(file, block!)
    try {
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(join(root, 'node_modules/.bin/tsx'), [file], { cwd: root, timeout: 90_000, env: { ...process.env, AGB_ENDPOINT: server.url, AGB_API_KEY: local.apiKey } },
          (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)))
      })
      expect(stdout).toMatch(/^AGB Local test page\nscreenshot: \d{4,} bytes\n$/)
    } finally {
      rmSync(file, { force: true })
    }
  })

  it('keeps its session from going idle while a DevTools client drives the browser', async () => {
    const id = await api.createSession({ timeout: 4 }, 'agb-browser-use-1') // idle release after 4 s
    expect((await api.post(`/browser/init?sessionId=${id}`, {})).json.success).toBe(true)
    const browser = await chromium.connectOverCDP((await api.post(`/internet/getCdpLink?sessionId=${id}`, {})).json.data.url)
    try {
      const page = await browser.contexts()[0]!.newPage()
      const until = Date.now() + 9000 // over twice the idle timeout, only DevTools traffic
      while (Date.now() < until) {
        await page.evaluate(() => 1)
        await new Promise((r) => setTimeout(r, 200))
      }
      expect((await api.post('/mcp/getSessionInfo', { sessionId: id })).json.data.status).toBe('RUNNING')
    } finally {
      await browser.close()
    }
    // Left alone, it is released as usual.
    await waitFor(async () => (await api.post('/mcp/getSessionInfo', { sessionId: id })).json.data?.status !== 'RUNNING', 60_000)
  })

  it('reports a browser killed from inside the sandbox as stopped, and starts a new one', async () => {
    const { id, url, marker } = await browserSession()
    const browser = await chromium.connectOverCDP(url)
    const disconnected = new Promise<void>((resolve) => browser.once('disconnected', () => resolve()))
    await api.shell(id, `kill -9 $(pgrep -f ${marker}) 2>/dev/null; true`)
    await disconnected
    await waitFor(async () => (await api.post(`/internet/getCdpLink?sessionId=${id}`, {})).json.code === 'BrowserNotStarted', 60_000)
    expect((await api.post(`/browser/init?sessionId=${id}&persistentPath=/tmp/${marker}`, {})).json.success).toBe(true)
    const again = await chromium.connectOverCDP((await api.post(`/internet/getCdpLink?sessionId=${id}`, {})).json.data.url)
    expect(again.isConnected()).toBe(true)
    await again.close()
  })

  it('applies browserOption as the official SDKs send it (service-only keys accepted, no effect) and refuses malformed ones', async () => {
    const id = await api.createSession({}, 'agb-browser-use-1')
    const option = { useStealth: true, userAgent: 'agb-option-test', viewport: { width: 700, height: 500 }, screen: { width: 1920, height: 1080 },
      solveCaptchas: false, proxies: [], fingerprintPersistPath: '/tmp/agb_browser_fingerprint', cmdArgs: ['--force-device-scale-factor=2'],
      defaultNavigateUrl: 'data:text/html,<title>start page</title>', browserType: 'chrome' }
    const init = await api.post(`/browser/init?sessionId=${id}&persistentPath=/tmp/agb_browser_data&browserOption=${encodeURIComponent(JSON.stringify(option))}`, {})
    expect(init.json.success, JSON.stringify(init.json)).toBe(true)
    const browser = await chromium.connectOverCDP((await api.post(`/internet/getCdpLink?sessionId=${id}`, {})).json.data.url)
    try {
      const first = browser.contexts()[0]!.pages()[0]!
      expect(await first.title()).toBe('start page')
      expect(await first.evaluate(() => [navigator.userAgent, devicePixelRatio, innerWidth])).toEqual(['agb-option-test', 2, 700])
    } finally {
      await browser.close()
    }
    const other = await api.createSession({}, 'agb-browser-use-1')
    for (const bad of ['{not json', JSON.stringify({ defaultNavigateUrl: '--renderer-cmd-prefix=sh' }), JSON.stringify({ cmdArgs: 'x' }), JSON.stringify({ viewport: { width: -1, height: 2 } })]) {
      const res = await api.post(`/browser/init?sessionId=${other}&browserOption=${encodeURIComponent(bad)}`, {})
      expect(res.json, bad).toMatchObject({ success: false, code: 'InvalidParameter' })
    }
  })

  it('answers the LLM-driven browser agent tools with a tool error saying they are not available', async () => {
    const { id } = await browserSession()
    const res = await api.callTool(id, 'page_use_navigate', { url: 'https://example.com' })
    expect(res.json.success).toBe(true)
    expect(res.isError).toBe(true)
    expect(res.text).toMatch(/page_use_navigate is not available in AGB Local/)
  })
})

describe('images', { timeout: 180_000 }, () => {
  it('accepts every documented image id, and custom ids given with images', async () => {
    for (const imageId of ['agb-code-space-1', 'agb-code-space-2', 'agb-browser-use-1', 'agb-computer-use-ubuntu-2204']) {
      const id = await api.createSession({}, imageId)
      expect((await api.shell(id, 'echo ok')).stdout, imageId).toBe('ok\n')
      expect((await api.post(`/mcp/listTools?imageId=${imageId}`, {})).json.success, imageId).toBe(true)
    }
    const custom = createAgbLocal({ images: ['my-team-image'] })
    try {
      const id = await localClient(custom).createSession({}, 'my-team-image')
      expect(id).toMatch(/^session-/)
      expect((await localClient(custom).post('/mcp/createSession?imageId=unknown-image', {})).json.data).toMatchObject({ success: false })
    } finally {
      await custom.close()
    }
  })

  it('lists the browser tools for browser-use images only, the desktop tools for computer-use images only', async () => {
    const names = async (imageId: string) => JSON.parse((await api.post(`/mcp/listTools?imageId=${imageId}`, {})).json.data).map((t: any) => t.name) as string[]
    expect(await names('agb-browser-use-1')).toEqual(expect.arrayContaining(['screenshot', 'stopChrome', 'page_use_act', 'shell', 'run_code']))
    expect(await names('agb-browser-use-1')).not.toContain('click_mouse')
    expect(await names('agb-code-space-1')).not.toContain('screenshot')
    expect(await names('agb-computer-use-ubuntu-2204')).toEqual(expect.arrayContaining(['click_mouse', 'system_screenshot', 'shell']))
    const created = await api.post('/mcp/createSession?imageId=agb-browser-use-1', {})
    expect(JSON.parse(created.json.data.toolList).map((t: any) => t.name)).toContain('screenshot')
  })

  it('answers desktop tools of computer-use images with a tool error saying they are not available', async () => {
    const id = await api.createSession({}, 'agb-computer-use-ubuntu-2204')
    const res = await api.callTool(id, 'click_mouse', { x: 1, y: 1, button: 'left' })
    expect(res.isError).toBe(true)
    expect(res.text).toMatch(/click_mouse is not available in AGB Local/)
    expect((await api.post(`/browser/init?sessionId=${id}`, {})).json).toMatchObject({ success: false, code: 'InvalidRequest' })
  })

  it('gives code-space sessions no browser: browser/init and getCdpLink fail saying why, screenshot does not exist', async () => {
    const id = await api.createSession({}, 'agb-code-space-1')
    const init = await api.post(`/browser/init?sessionId=${id}`, {})
    expect(init.json).toMatchObject({ success: false, code: 'InvalidRequest' })
    expect(init.json.message).toMatch(/has no browser; create the session with imageId agb-browser-use-1/)
    const link = await api.post(`/internet/getCdpLink?sessionId=${id}`, {})
    expect(link.json).toMatchObject({ success: false, code: 'InvalidRequest' })
    expect((await api.callTool(id, 'screenshot', {})).text).toBe('Error: tool not found: screenshot')
    const client = createClient({ apiKey: local.apiKey, endpoint: server.url })
    const error = await initBrowser(client, id).catch((e: unknown) => e)
    expect(isAgbError(error, 'api_error')).toBe(true)
    expect((error as Error).message).toMatch(/has no browser/)
  })
})

describe('getSession', { timeout: 180_000 }, () => {
  it('answers code "ok" as the service does', async () => {
    const id = await api.createSession()
    expect((await api.post('/mcp/getSession', { sessionId: id })).json).toMatchObject({ success: true, code: 'ok' })
  })
})

describe('browser sessions without network', { timeout: 180_000 }, () => {
  it('still drive their browser over the relay (the sandbox has its own network namespace)', async () => {
    const offline = createAgbLocal({ network: false })
    const offlineServer = await serve(offline)
    try {
      const api2 = localClient(offline, offlineServer.url)
      const id = await api2.createSession({}, 'agb-browser-use-1')
      expect((await api2.post(`/browser/init?sessionId=${id}`, {})).json.success).toBe(true)
      const browser = await chromium.connectOverCDP((await api2.post(`/internet/getCdpLink?sessionId=${id}`, {})).json.data.url)
      const page = await browser.contexts()[0]!.newPage()
      await page.goto('data:text/html,<title>offline page</title>')
      expect(await page.title()).toBe('offline page')
      // The host's loopback (AGB Local itself) is out of reach from the sandbox.
      const error = await page.goto(`${offlineServer.url}/local/test-page`).catch((e: Error) => e)
      expect(String(error)).toMatch(/ERR_/)
      await browser.close()
    } finally {
      await offlineServer.close()
      await offline.close()
    }
  })
})

describe('getLink without network', { timeout: 180_000 }, () => {
  it('fails saying why instead of returning a URL where nothing can answer', async () => {
    const offline = createAgbLocal({ network: false })
    try {
      const api2 = localClient(offline)
      const id = await api2.createSession()
      const res = await offline.fetch(`http://agb.local/internet/getLink?sessionId=${id}&port=30100`, { headers: { authorization: `Bearer ${offline.apiKey}` } })
      const json = (await res.json()) as Record<string, any>
      expect(json).toMatchObject({ success: false, code: 'InvalidRequest' })
      expect(json.message).toMatch(/without network \(--no-network\)/)
    } finally {
      await offline.close()
    }
  })
})

describe('browser sessions without isolation', { timeout: 180_000 }, () => {
  it('work as plain host processes too (isolation none)', async () => {
    const plain = createAgbLocal({ isolation: 'none' })
    const plainServer = await serve(plain)
    try {
      const api2 = localClient(plain, plainServer.url)
      const id = await api2.createSession({}, 'agb-browser-use-1')
      const init = await api2.post(`/browser/init?sessionId=${id}`, {})
      expect(init.json.success, JSON.stringify(init.json)).toBe(true)
      const browser = await chromium.connectOverCDP((await api2.post(`/internet/getCdpLink?sessionId=${id}`, {})).json.data.url)
      const page = await browser.contexts()[0]!.newPage()
      await page.goto(`${plainServer.url}/local/test-page`)
      expect(await page.title()).toBe('AGB Local test page')
      await browser.close()
    } finally {
      await plainServer.close()
      await plain.close()
    }
  })
})
