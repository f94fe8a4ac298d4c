// examples/browser in headless Chromium, as a user runs it: AGB Local on loopback, the example's
// own server (`tsx examples/browser/server.ts`: the page, its bundled app and the proxy at /agb)
// as a child process configured by its environment, and the page driven by playwright-core:
// click Run, see the streamed lines and the result, and a screenshot whose output box really
// changed from the empty dark box to text. Closing the tab must give the session back.
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM, CHROMIUM_ARGS, ROOT, requireChromium, requireDist, startLocal } from './runtimes/harness.ts'
import type { LocalServer } from './runtimes/harness.ts'

const TIMEOUT_MS = 20_000
const SHOTS = join(ROOT, '.tmp/examples-browser')

/** The example's server, with what it printed. */
interface Example {
  child: ChildProcess
  url: string
  output: () => string
}

/** Starts examples/browser/server.ts on a free port (PORT=0) and waits for its URL line. */
function startExample(local: LocalServer): Promise<Example> {
  const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'examples/browser/server.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', AGB_API_KEY: local.apiKey, AGB_ENDPOINT: local.url, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const read = () => output
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(`no URL line after ${TIMEOUT_MS} ms`), TIMEOUT_MS)
    const fail = (why: string) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new Error(`examples/browser/server.ts ${why}\n--- its output ---\n${output.trim() || '(empty)'}`))
    }
    const onData = (s: string) => {
      output += s
      const match = /browser example on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve({ child, url: match[1]!, output: read })
      }
    }
    child.stdout!.setEncoding('utf8').on('data', onData)
    child.stderr!.setEncoding('utf8').on('data', onData)
    child.once('error', (error) => fail(`could not start: ${error.message}`))
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before listening`))
  })
}

/** Stops the example like Ctrl-C does (it closes its server and exits 0); SIGKILL after 5 s. */
async function stopExample(example: Example): Promise<number | null> {
  const { child } = example
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  const code = await exited
  clearTimeout(timer)
  return code
}

/** Decodes an 8-bit, non-interlaced RGB/RGBA PNG (what Chromium's screenshots are) to RGBA. */
function decodePng(png: Buffer): { width: number; height: number; rgba: Uint8Array } {
  expect(png.subarray(0, 8).toString('hex'), 'PNG signature').toBe('89504e470d0a1a0a')
  let offset = 8
  let width = 0
  let height = 0
  let channels = 0
  const idat: Buffer[] = []
  while (offset < png.length) {
    const length = png.readUInt32BE(offset)
    const type = png.toString('latin1', offset + 4, offset + 8)
    const data = png.subarray(offset + 8, offset + 8 + length)
    if (type === 'IHDR') {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      const [bitDepth, colorType, , , interlace] = [data[8], data[9], data[10], data[11], data[12]]
      expect({ bitDepth, interlace, colorType: [2, 6].includes(colorType!) }, 'PNG format').toEqual({ bitDepth: 8, interlace: 0, colorType: true })
      channels = colorType === 6 ? 4 : 3
    } else if (type === 'IDAT') idat.push(data)
    else if (type === 'IEND') break
    offset += 12 + length
  }
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  const pixels = new Uint8Array(stride * height)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels]! : 0
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0
      const p = a + b - c
      const predictor = [0, a, b, (a + b) >> 1, Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c][filter]
      pixels[y * stride + x] = (line[x]! + predictor!) & 0xff
    }
  }
  const rgba = new Uint8Array(width * height * 4)
  for (let i = 0; i < width * height; i++) {
    rgba.set(pixels.subarray(i * channels, i * channels + 3), i * 4)
    rgba[i * 4 + 3] = channels === 4 ? pixels[i * channels + 3]! : 255
  }
  return { width, height, rgba }
}

/**
 * Pixel statistics of a screenshot, `inset` pixels in from each edge (an element's screenshot
 * can catch a row of the page's white background at a fractional edge): mean luminance and
 * the share of bright (text) pixels.
 */
function pixelStats(png: Buffer, inset = 0) {
  const { width, height, rgba } = decodePng(png)
  let sum = 0
  let bright = 0
  let n = 0
  for (let y = inset; y < height - inset; y++) {
    for (let x = inset; x < width - inset; x++) {
      const i = (y * width + x) * 4
      const luminance = 0.2126 * rgba[i]! + 0.7152 * rgba[i + 1]! + 0.0722 * rgba[i + 2]!
      sum += luminance
      if (luminance > 128) bright++
      n++
    }
  }
  return { width, height, meanLuminance: Math.round((sum / n) * 10) / 10, brightShare: Math.round((bright / n) * 10_000) / 10_000 }
}

let local: LocalServer
let example: Example | undefined
let browser: Browser | undefined
const browserLog: string[] = []

beforeAll(async () => {
  requireDist()
  local = await startLocal()
})

afterAll(async () => {
  await browser?.close()
  if (example) await stopExample(example)
  await local?.close()
})

/** The page's log, the example server's output: context for every failure. */
const context = () => `--- browser log ---\n${browserLog.join('\n') || '(empty)'}\n--- example server ---\n${example?.output().trim() || '(empty)'}`

/**
 * Records, in the page, when output first contains `line 0` and when the status says
 * `finished` (performance.now() ms): streamed output shows before the run ends.
 */
async function watchPage(tab: Page): Promise<void> {
  await tab.evaluate(() => {
    const w = window as unknown as { seen: Record<string, number> }
    w.seen = {}
    const check = () => {
      if (document.getElementById('output')!.textContent!.includes('line 0')) w.seen.line0 ??= performance.now()
      if (document.getElementById('status')!.textContent!.startsWith('finished')) w.seen.finished ??= performance.now()
    }
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true, characterData: true })
  })
}

describe('examples/browser in headless Chromium', () => {
  it('runs the textarea code through the proxy, streams the output into the page, and shows it', async (ctx) => {
    requireChromium(ctx.skip)
    example = await startExample(local)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      timeout: TIMEOUT_MS,
      logger: { isEnabled: (name) => name === 'browser', log: (_name, _severity, message) => void browserLog.push(`[chromium] ${message}`) },
    })
    const tab = await browser.newPage({ viewport: { width: 900, height: 720 } })
    tab.on('console', (m) => browserLog.push(`[console.${m.type()}] ${m.text()}`))
    tab.on('pageerror', (e) => browserLog.push(`[pageerror] ${e.stack ?? e.message}`))
    tab.on('requestfailed', (r) => browserLog.push(`[requestfailed] ${r.method()} ${r.url()}: ${r.failure()?.errorText}`))
    tab.on('request', (r) => browserLog.push(`[request] ${r.method()} ${r.url()}`))
    tab.on('response', (r) => void (r.status() >= 400 && browserLog.push(`[http ${r.status()}] ${r.request().method()} ${r.url()}`)))

    const before = local.local.requests.length
    const page = await tab.goto(example.url, { timeout: TIMEOUT_MS })
    expect(page?.status(), context()).toBe(200)
    // The page and its app hold no key.
    expect(await tab.content()).not.toContain(local.apiKey)
    expect(await (await tab.request.get(`${example.url}/app.js`)).text()).not.toContain(local.apiKey)

    const output = tab.locator('#output')
    const status = tab.locator('#status')
    await output.waitFor({ state: 'visible', timeout: TIMEOUT_MS })
    const emptyBox = await output.screenshot({ timeout: TIMEOUT_MS })
    await watchPage(tab)

    await tab.locator('#run').click({ timeout: TIMEOUT_MS })
    // Wait for the run to settle: `finished …` or `failed: …`, never the `running…` it starts with.
    await tab
      .waitForFunction(() => /^(finished|failed)/.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: TIMEOUT_MS })
      .catch((error: Error) => browserLog.push(`[harness] ${error.message}`))
    const statusText = (await status.textContent()) ?? ''
    const text = (await output.textContent()) ?? ''
    expect(statusText, `status after Run: ${JSON.stringify(statusText)}, output ${JSON.stringify(text)}\n${context()}`).toMatch(/^finished in \d+\.\d\d s$/)
    for (let i = 0; i < 5; i++) expect(text, context()).toContain(`line ${i}\n`)
    expect(text, context()).toContain('→ 42')
    expect(text.indexOf('line 4'), context()).toBeLessThan(text.indexOf('→ 42'))
    // Streamed: the first line was on screen while the code was still running (it runs ~0.5 s).
    const seen = (await tab.evaluate(() => (window as unknown as { seen: Record<string, number> }).seen)) as { line0?: number; finished?: number }
    expect(seen.line0, context()).toBeDefined()
    expect(seen.finished! - seen.line0!, `line 0 shown at ${seen.line0} ms, finished at ${seen.finished} ms\n${context()}`).toBeGreaterThan(200)

    // Screenshots: the page as a PNG of real size, and the output box changed from the empty
    // dark box (no bright pixels) to light text on it.
    mkdirSync(SHOTS, { recursive: true })
    const shot = await tab.screenshot({ fullPage: true, timeout: TIMEOUT_MS })
    writeFileSync(join(SHOTS, 'page.png'), shot)
    const fullStats = pixelStats(shot)
    expect(shot.length, 'page screenshot bytes').toBeGreaterThan(15_000)
    expect(fullStats.width).toBe(900)
    const filledBox = await output.screenshot({ timeout: TIMEOUT_MS })
    writeFileSync(join(SHOTS, 'output-before.png'), emptyBox)
    writeFileSync(join(SHOTS, 'output-after.png'), filledBox)
    const empty = pixelStats(emptyBox, 2)
    const filled = pixelStats(filledBox, 2)
    const stats = `output box before ${JSON.stringify(empty)}, after ${JSON.stringify(filled)} (screenshots in ${SHOTS})`
    // Six lines of ~7 light characters: about 1 % of the box's pixels (none before).
    expect(empty.brightShare, stats).toBe(0)
    expect(empty.meanLuminance, stats).toBeLessThan(40)
    expect(filled.brightShare, stats).toBeGreaterThan(0.004)
    expect(filled.meanLuminance - empty.meanLuminance, stats).toBeGreaterThan(0.5)
    expect(Buffer.compare(emptyBox, filledBox), stats).not.toBe(0)
    await ctx.annotate(`line 0 on screen ${Math.round(seen.finished! - seen.line0!)} ms before "finished"; ${stats}`)

    // Everything reached AGB Local through the proxy (no browser Origin upstream), streamed over
    // the proxy's WebSocket; one session is alive until the page goes away.
    const upstream = local.local.requests.slice(before)
    expect(upstream.filter((r) => r.headers.origin !== undefined), context()).toEqual([])
    expect(upstream.some((r) => /\/ws\/[^/]+$/.test(new URL(r.url).pathname) && r.headers['x-access-token']), context()).toBe(true)
    expect(local.local.liveSessions()).toBe(1)

    // Another visitor (a fresh browser context: its own cookie) sees none of this tab's
    // sessions; a request without the cookie is refused.
    const otherVisitor = await browser.newContext()
    const otherTab = await otherVisitor.newPage()
    await otherTab.goto(example.url, { timeout: TIMEOUT_MS })
    const theirs = (await otherTab.evaluate(async () => (await fetch('/agb/sdk/ListSession')).json())) as { data?: unknown }
    expect(theirs.data, context()).toEqual([])
    expect(await otherTab.evaluate(async () => (await fetch('/agb/sdk/ListSession', { credentials: 'omit' })).status)).toBe(401)
    await otherVisitor.close()

    // Closing the tab fires `pagehide`, where the example deletes its session (best effort: its
    // release is an ordinary fetch, which the closing page may cancel, and the example server
    // then aborts the upstream call). Whatever is left is deleted here; never more than the
    // one session the page reused.
    await tab.close({ runBeforeUnload: true })
    const deadline = Date.now() + 3_000
    while (local.local.liveSessions() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    const leftAfterClose = local.local.liveSessions()
    expect(leftAfterClose).toBeLessThanOrEqual(1)
    if (leftAfterClose > 0) {
      const { createClient, deleteSession, listSessions } = await import('agb-micro')
      const direct = createClient({ apiKey: local.apiKey, endpoint: local.url })
      for await (const session of listSessions(direct)) await deleteSession(direct, session.id)
    }
    expect(local.local.liveSessions()).toBe(0)
    await ctx.annotate(`pagehide release: ${leftAfterClose === 0 ? 'session deleted by the page' : 'session still alive 3 s after the tab closed (deleted by the test)'}`)

    expect(await stopExample(example), context()).toBe(0)
    example = undefined
  })
})
