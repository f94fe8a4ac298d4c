// The AGB Local console driven in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core): sign in with the one-time link, watch SDK calls appear, download a file,
// switch a fault, release a session. Screenshots of each state go to .tmp/console-screenshots/.
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal, serve } from '../../server/index.ts'
import type { AgbLocal, Server } from '../../server/index.ts'
import { WebSocket as WsWebSocket } from 'ws'
import { collectCode, createClient, createSession, deleteSession, initBrowser, isAgbError, runCode, streamCode, writeFile } from '../../src/index.ts'
import type { Client, Session } from '../../src/index.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const SHOTS = join(process.cwd(), '.tmp/console-screenshots')
const UI_TIMEOUT = 10_000

let local: AgbLocal
let server: Server
let client: Client
let browser: Browser
let context: BrowserContext
let page: Page
let session: Session
let token: string
/** Everything the console sent the page: JSON answers and the event stream. */
const seen: string[] = []
let stream: AbortController | undefined

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) })
}

/** The console's cookie header, as the signed-in browser holds it. */
async function cookieHeader(): Promise<string> {
  const cookies = await context.cookies(server.url + '/console/')
  return cookies.map((c) => `${c.name}=${c.value}`).join('; ')
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y --no-install-recommends chromium`)
  mkdirSync(SHOTS, { recursive: true })
  local = createAgbLocal()
  server = await serve(local)
  client = createClient({ apiKey: local.apiKey, endpoint: server.url, webSocket: WsWebSocket as never }) // Node 20 has no global WebSocket
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  context = await browser.newContext({ viewport: { width: 1360, height: 860 }, acceptDownloads: true })
  page = await context.newPage()
  page.on('response', async (res) => {
    if (!res.url().includes('/console/') || (res.headers()['content-type'] ?? '').includes('event-stream')) return
    seen.push(await res.text().catch(() => ''))
  })
})
afterAll(async () => {
  stream?.abort()
  await browser?.close()
  await server?.close()
  await local?.close()
})

describe('AGB Local console', () => {
  it('signs in through the one-time link: HttpOnly SameSite=Strict cookie on /console, token gone from the URL, link dead after use', async () => {
    const link = local.consoleLink(server.url)
    expect(link).toMatch(new RegExp(`^${server.url}/console/login\\?t=[\\w-]{43}$`))
    expect(link).not.toContain(local.apiKey)
    const fresh = await browser.newContext()
    const outsider = await fresh.newPage()
    const refused = await outsider.goto(`${server.url}/console/`)
    expect(refused?.status()).toBe(401)
    expect(await outsider.textContent('main')).toContain('not signed in')

    await page.goto(link)
    expect(page.url()).toBe(`${server.url}/console/`)
    await page.getByText('Live', { exact: true }).waitFor({ timeout: UI_TIMEOUT })
    const [cookie] = await context.cookies(server.url + '/console/')
    expect(cookie).toMatchObject({ name: 'agb_console', httpOnly: true, sameSite: 'Strict', path: '/console' })
    expect(cookie!.value).toMatch(/^[\w-]{43}$/) // 32 random bytes
    expect(await page.evaluate(() => document.cookie)).toBe('') // HttpOnly: the page's script cannot read it

    const again = await outsider.goto(link)
    expect(again?.status()).toBe(403)
    await fresh.close()
    await shot('1-signed-in')

    // The cookie: a sign-in link for the stream scan below, as the page's own cookie.
    stream = new AbortController()
    const res = await fetch(`${server.url}/console/api/events`, { headers: { cookie: await cookieHeader() }, signal: stream.signal })
    expect(res.status).toBe(200)
    void (async () => {
      const decoder = new TextDecoder()
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) seen.push(decoder.decode(chunk))
    })().catch(() => {})
  })

  it('shows a session created through the SDK within a second', async () => {
    const created = await createSession(client, { imageId: 'agb-code-space-1', labels: { agent: 'demo' } })
    const createdAt = performance.now()
    session = created
    await page.locator(`#sessions [data-session="${session.id}"]`).waitFor({ timeout: UI_TIMEOUT })
    const appearedMs = performance.now() - createdAt
    console.log(`[console] new session appeared in the page after ${Math.round(appearedMs)} ms`)
    expect(appearedMs).toBeLessThan(3000) // 1 s promised; 3x margin for a busy machine
    await expect.poll(() => page.textContent(`#sessions [data-session="${session.id}"]`)).toMatch(/agb-code-space-1 · agent=demo[\s\S]*idle release in/)
    await page.click(`#sessions [data-session="${session.id}"]`)
    await shot('2-session')
    // The session token getSession hands out: the redaction check below looks for it.
    token = await sessionToken(session.id)
    expect(token.length).toBeGreaterThan(16)
    // Watching is not activity: the page's polling (processes, metrics, files) leaves the idle timer alone.
    const lastActivity = async () => ((await (await fetch(`${server.url}/console/api/state`, { headers: { cookie: await cookieHeader() } })).json()) as { sessions: { live: Array<{ id: string; lastActivity: number }> } }).sessions.live.find((s) => s.id === session.id)!.lastActivity
    const before = await lastActivity()
    await page.locator('#processes tr').first().waitFor({ timeout: UI_TIMEOUT })
    await page.waitForTimeout(2500) // one more polling round
    expect(await lastActivity()).toBe(before)
  })

  it('shows code run through the SDK in the timeline with its output, and streams a run started in the page', async () => {
    const result = await runCode(client, session, 'print(6 * 7)')
    expect(result.stdout).toBe('42\n')
    const row = page.locator('#timeline tr', { hasText: 'run_code' }).first()
    await row.waitFor({ timeout: UI_TIMEOUT })
    await expect.poll(() => row.textContent()).toContain(result.requestId!)
    await row.locator('summary').click()
    expect(await row.locator('details pre').textContent()).toContain('42')

    // Code run through the API shows its output while it runs (the page is open: output is tapped).
    const running = runCode(client, session, "import time\nprint('tick', flush=True)\ntime.sleep(2)\nprint('tock')")
    const live = page.locator('#timeline tr.live', { hasText: 'tick' })
    await live.waitFor({ timeout: UI_TIMEOUT })
    expect(await live.textContent()).not.toContain('tock')
    expect((await running).stdout).toBe('tick\ntock\n')
    await page.locator('#timeline tr.live').waitFor({ state: 'detached', timeout: UI_TIMEOUT })

    // A run streamed over the session WebSocket (no HTTP request) is in the timeline too.
    const streamed = await collectCode(streamCode(client, session, "print('over the socket')"))
    expect(streamed.stdout).toBe('over the socket\n')
    const wsRow = page.locator('#timeline tr', { hasText: 'run_code (WebSocket)' }).first()
    await wsRow.waitFor({ timeout: UI_TIMEOUT })
    await wsRow.locator('summary').click()
    expect(await wsRow.locator('details pre').textContent()).toContain('over the socket')

    await page.selectOption('#run-language', 'python')
    await page.fill('#run-code', "import time\nprint('first', flush=True)\ntime.sleep(2)\nprint('second')")
    await page.click('#run-button')
    // 'first' is shown while the run still goes on (the button is disabled until it ends).
    await page.locator('#run-output', { hasText: 'first' }).waitFor({ timeout: UI_TIMEOUT })
    expect(await page.isDisabled('#run-button')).toBe(true)
    expect(await page.textContent('#run-output')).not.toContain('second')
    await page.locator('#run-output', { hasText: 'second' }).waitFor({ timeout: UI_TIMEOUT })
    await page.locator('#timeline tr', { hasText: '(console)' }).first().waitFor({ timeout: UI_TIMEOUT })
    await page.evaluate(() => scrollTo(0, 0))
    await page.locator('#processes td.command').first().waitFor({ timeout: UI_TIMEOUT }) // the kernel
    await shot('3-timeline')
    await page.screenshot({ path: join(SHOTS, 'readme.png'), clip: { x: 0, y: 0, width: 1360, height: 720 } }) // docs/console.png
  })

  it('lists a file written through the SDK and downloads it byte-identical; text files open in the viewer', async () => {
    const data = new Uint8Array(5000).map((_, i) => (i * 37 + (i >> 8)) & 0xff)
    await writeFile(client, session, '/home/user/data.bin', data)
    await writeFile(client, session, '/home/user/notes.txt', 'hello from the SDK\n')
    const entry = page.locator('#files li[data-file="/home/user/data.bin"]')
    await entry.waitFor({ timeout: UI_TIMEOUT })
    const [download] = await Promise.all([page.waitForEvent('download'), entry.getByRole('link', { name: 'Download data.bin' }).click()])
    const saved = readFileSync((await download.path())!)
    expect(Buffer.compare(saved, Buffer.from(data))).toBe(0)
    await page.locator('#files li[data-file="/home/user/notes.txt"] button').click()
    await page.locator('#file-view-text', { hasText: 'hello from the SDK' }).waitFor({ timeout: UI_TIMEOUT })
    await shot('4-files')
  })

  it('switches a fault on in the page: the next SDK call gets it; switched off, calls succeed again', async () => {
    await page.fill('#fault-route', '/mcp')
    await page.fill('#fault-tool', 'run_code')
    await page.selectOption('#fault-kind', 'envelope-failure')
    await page.fill('#fault-status', '503')
    await page.click('#fault-form button[type=submit]')
    const toggle = page.locator('#faults input[role=switch]').first()
    await toggle.waitFor({ timeout: UI_TIMEOUT })
    expect(await toggle.isChecked()).toBe(true)
    const error = await runCode(client, session, 'print(1)', { retry: false } as never).catch((e: unknown) => e)
    expect(isAgbError(error), String(error)).toBe(true)
    await page.locator('#timeline tr', { hasText: 'fault: envelope-failure' }).first().waitFor({ timeout: UI_TIMEOUT })
    await shot('5-fault')
    await toggle.uncheck()
    await expect.poll(async () => (await runCode(client, session, 'print(2)').then((r) => r.stdout, (e: Error) => e.message))).toBe('2\n')
  })

  it('never sends the API key, a session token or a presigned signature to the page, even when calls carry them', async () => {
    const presigned = local.oss.presign('GET', local.oss.bucket, 'report.txt', 60, server.url)
    const signature = new URL(presigned).searchParams.get('X-Amz-Signature')!
    expect(signature).toMatch(/^[0-9a-f]{64}$/)
    // The secrets are in the arguments and in the output of the call.
    const printed = await runCode(client, session, `print("${local.apiKey}")\nprint("${token}")\nprint("${presigned}")`)
    expect(printed.stdout).toContain(signature)
    await page.locator('#timeline tr', { hasText: '[redacted]' }).first().waitFor({ timeout: UI_TIMEOUT })
    await page.locator('#timeline tr', { hasText: '[redacted]' }).first().locator('summary').click()
    expect(await page.locator('#timeline tr', { hasText: '[redacted]' }).first().locator('details pre').textContent()).toContain('X-Amz-Signature=[redacted]')
    const state = await fetch(`${server.url}/console/api/state`, { headers: { cookie: await cookieHeader() } })
    seen.push(await state.text())
    seen.push(await page.content())
    const all = seen.join('\n')
    expect(all).toContain('[redacted]')
    expect(all).toContain(session.id) // the scan did see the session's calls
    expect(all).not.toContain(local.apiKey)
    expect(all).not.toContain(token)
    expect(all).not.toContain(signature)
  })

  it('shows the browser of a browser-use session as a screenshot', async () => {
    const browsing = await createSession(client, { imageId: 'agb-browser-use-1' })
    try {
      await initBrowser(client, browsing, { browserOption: { viewport: { width: 640, height: 400 } } })
      await page.click(`#sessions [data-session="${browsing.id}"]`)
      await page.locator('#screenshot[src^="data:image/png;base64,"]').waitFor({ timeout: UI_TIMEOUT })
      expect(await page.locator('#screenshot').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(640)
      await shot('6-browser')
    } finally {
      await deleteSession(client, browsing)
    }
    await page.click(`#sessions [data-session="${session.id}"]`)
  }, 30_000)

  it('releases a session from the page: it leaves the live list and shows greyed under Released', async () => {
    await page.click('#release')
    await page.locator(`#released [data-session="${session.id}"]`).waitFor({ timeout: UI_TIMEOUT })
    expect(await page.locator(`#sessions [data-session="${session.id}"]`).count()).toBe(0)
    expect(local.liveSessions()).toBe(0)
    expect(await page.isDisabled('#run-button')).toBe(true)
    // The release went through the API (recorded like any call), marked as the console's.
    await page.locator('#timeline tr', { hasText: 'POST /mcp/releaseSession (console)' }).waitFor({ timeout: UI_TIMEOUT })
    await shot('7-released')
  })

  it('refuses other origins, cookieless requests and actions without a same-origin proof', async () => {
    const cookie = await cookieHeader()
    const at = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, init)
    expect((await at('/console/api/state')).status).toBe(401)
    expect((await at('/console/api/state', { headers: { cookie, origin: 'http://evil.example' } })).status).toBe(403)
    const body = JSON.stringify({ kind: 'drop' })
    const json = { cookie, 'content-type': 'application/json' }
    expect((await at('/console/api/faults', { method: 'POST', headers: json, body })).status).toBe(403)
    expect((await at('/console/api/faults', { method: 'POST', headers: { ...json, origin: 'http://evil.example' }, body })).status).toBe(403)
    const preflight = await at('/console/api/faults', { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } })
    expect(preflight.status).toBe(403)
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
    expect((await at('/console/api/state', { headers: { authorization: `Bearer ${local.apiKey}` } })).status).toBe(401) // the API key is not a console login
    expect(local.faults.pending()).toBe(0)
    const ok = await at('/console/api/faults', { method: 'POST', headers: { ...json, origin: server.url }, body: JSON.stringify({ kind: 'status', route: '/nowhere' }) })
    expect(ok.status).toBe(201)
  })

  it('is usable by keyboard, labelled, with landmarks and readable contrast', async () => {
    const report = await page.evaluate(() => {
      const unlabelled = [...document.querySelectorAll('input, select, textarea')].filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label')).map((el) => el.id)
      const landmarks = ['header', 'nav', 'main', 'aside'].filter((tag) => document.querySelector(tag))
      const rgb = (c: string) => c.match(/[\d.]+/g)!.slice(0, 3).map(Number)
      const lum = (c: string) => {
        const [r, g, b] = rgb(c).map((v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4))
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
      }
      const background = (el: Element | null): string => {
        for (; el; el = el.parentElement) {
          const bg = getComputedStyle(el).backgroundColor
          if (bg && !bg.startsWith('rgba(0, 0, 0, 0)') && bg !== 'transparent') return bg
        }
        return 'rgb(255, 255, 255)'
      }
      const contrast = (sel: string) => {
        const el = document.querySelector(sel)!
        const [a, b] = [lum(getComputedStyle(el).color), lum(background(el))].sort((x, y) => y - x)
        return Math.round(((a! + 0.05) / (b! + 0.05)) * 100) / 100
      }
      const contrasts = Object.fromEntries(['h1', '.stats dt', '#run-button', '#release', '#released .line', '#timeline tr.failed td', '.side .muted', '#files a'].map((s) => [s, contrast(s)]))
      return { unlabelled, landmarks, contrasts }
    })
    expect(report.unlabelled).toEqual([])
    expect(report.landmarks).toEqual(['header', 'nav', 'main', 'aside'])
    for (const [selector, ratio] of Object.entries(report.contrasts)) expect(ratio, selector).toBeGreaterThanOrEqual(4.5)

    // Tab from the top reaches the session list, the run controls and the fault form.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
    const reached: string[] = []
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab')
      reached.push(await page.evaluate(() => {
        const el = document.activeElement!
        return `${el.tagName.toLowerCase()}#${el.id}${el.getAttribute('data-session') ? '[session]' : ''}`
      }))
    }
    expect(reached).toContain('a#') // the skip link comes first
    expect(reached.some((r) => r.endsWith('[session]'))).toBe(true)
    expect(reached).toContain('textarea#run-code')
    expect(reached).toContain('input#fault-route')
    const outline = await page.evaluate(() => {
      const button = document.querySelector('[data-session]') as HTMLElement
      button.focus()
      return getComputedStyle(button).outlineStyle
    })
    expect(outline).toBe('solid')
  })

  it('is off with console: false, and the CLI prints a sign-in link after its banner unless --no-console', async () => {
    const off = createAgbLocal({ console: false })
    try {
      expect((await off.fetch('http://agb.local/console/')).status).not.toBe(200)
      expect(() => off.consoleLink('http://127.0.0.1:1')).toThrow(/console: false/)
    } finally {
      await off.close()
    }
    const firstLines = (args: string[]) => new Promise<string[]>((resolve, reject) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'server/cli.ts', '--port', '0', '--isolation', 'none', ...args])
      let out = ''
      child.stdout!.on('data', (d: Buffer) => {
        out += d
        if (out.includes('export AGB_API_KEY')) setTimeout(() => child.kill('SIGTERM'), 300)
      })
      child.once('exit', () => resolve(out.split('\n')))
      child.once('error', reject)
    })
    const on = await firstLines([])
    expect(on[0]).toMatch(/^AGB Local listening on http:\/\/127\.0\.0\.1:\d+$/)
    expect(on.find((l) => l.startsWith('Console: '))).toMatch(/^Console: http:\/\/127\.0\.0\.1:\d+\/console\/login\?t=[\w-]{43}$/)
    const offLines = await firstLines(['--no-console'])
    expect(offLines[0]).toMatch(/^AGB Local listening on /)
    expect(offLines.some((l) => l.startsWith('Console:'))).toBe(false)
  }, 30_000)
})

/** The session token, as getSession answers it. */
async function sessionToken(id: string): Promise<string> {
  const res = await local.fetch(`http://agb.local/mcp/getSession`, { method: 'POST', headers: { authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: id }) })
  const doc = (await res.json()) as { data?: { token?: string } }
  return doc.data?.token ?? ''
}
