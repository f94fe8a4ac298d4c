// The README: a session's WebSocket (opened by streamCode, shared by its streams) is "closed by
// deleteSession". Checked on AGB Local's side over real loopback: the socket it accepted for
// the session is gone once deleteSession returns, also for `wait: false`, and a second session's
// socket is left alone. AGB Local also closes a released session's sockets itself, so the last
// test withholds the release from it (the service answers as the AGB cloud does when it
// releases later): only the SDK can close the socket there.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { WebSocket } from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { createClient, createSession, deleteSession, streamCode } from '../../src/index.ts'
import { IMAGE, startLocal, type LocalHarness } from '../helpers/local.ts'
import { eventually } from '../helpers/noLeaks.ts'
import { loadFixture } from '../helpers/replay.ts'

let h: LocalHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

/** Node 20 has no global WebSocket (and browsers cannot send the token header): `ws` works everywhere here. */
async function harness(fetch?: typeof globalThis.fetch) {
  h = await startLocal('loopback')
  const client = createClient({ apiKey: h.local.apiKey, endpoint: h.url, webSocket: WebSocket as never, ...(fetch ? { fetch } : {}) })
  return { h, client }
}

/** Answers releaseSessionAsync with the recorded success without passing it on; the rest goes to AGB Local. */
const RELEASE_OK = loadFixture('release-session.async.ok').exchanges[0]!.response.json
const releaseWithheld: typeof globalThis.fetch = async (input, init) => {
  const request = new Request(input, init)
  if (new URL(request.url).pathname === '/mcp/releaseSessionAsync') {
    return new Response(JSON.stringify(RELEASE_OK), { status: 200, headers: { 'content-type': 'application/json' } })
  }
  return fetch(request)
}

async function streamOnce(client: ReturnType<typeof createClient>, id: string): Promise<void> {
  for await (const event of streamCode(client, id, "print('x')")) if (event.type === 'end') break
}

describe('deleteSession closes the session WebSocket', () => {
  for (const wait of [true, false]) {
    it(`closes the socket streamCode opened (wait: ${wait})`, async () => {
      const { h, client } = await harness()
      const a = await createSession(client, { imageId: IMAGE })
      const b = await createSession(client, { imageId: IMAGE })
      await streamOnce(client, a.id)
      await streamOnce(client, b.id)
      expect(h.local.openSockets(a.id)).toBe(1)
      expect(h.local.openSockets(b.id)).toBe(1)
      await deleteSession(client, a, { wait })
      // The close handshake crosses the loopback: give it a moment, far less than the 20 s heartbeat.
      await eventually(() => h.local.openSockets(a.id) === 0, 5_000, 20)
      expect(h.local.openSockets(a.id)).toBe(0)
      expect(h.local.openSockets(b.id)).toBe(1)
      await deleteSession(client, b)
      await eventually(() => h.local.openSockets() === 0, 5_000, 20)
      expect(h.local.openSockets()).toBe(0)
    })
  }

  it('closes the socket on the client side, whatever the service does with its end', async () => {
    const { h, client } = await harness(releaseWithheld)
    const a = await createSession(client, { imageId: IMAGE })
    await streamOnce(client, a.id)
    expect(h.local.openSockets(a.id)).toBe(1)
    await deleteSession(client, a, { wait: false })
    await eventually(() => h.local.openSockets(a.id) === 0, 5_000, 20)
    expect(h.local.liveSessions()).toBe(1) // AGB Local never saw the release…
    expect(h.local.openSockets(a.id)).toBe(0) // …so the SDK closed the socket
  })

  it('a program that streamed and then deleted its session exits by itself (nothing left open)', async () => {
    const root = resolve(import.meta.dirname, '../..')
    if (!existsSync(join(root, 'dist/index.mjs'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)')
    h = await startLocal('loopback')
    // The built package, as a user's script imports it; `ws` where Node has no global WebSocket.
    const script = [
      "import { WebSocket } from 'ws'",
      "import { createClient, createSession, deleteSession, streamCode } from 'agb-micro'",
      'const client = createClient({ apiKey: process.env.AGB_API_KEY, endpoint: process.env.AGB_ENDPOINT, webSocket: globalThis.WebSocket ?? WebSocket })',
      "const session = await createSession(client, { imageId: 'agb-code-space-1' })",
      "for await (const e of streamCode(client, session, \"print('x')\")) if (e.type === 'end') break",
      'await deleteSession(client, session)',
      "console.log('left open after deleteSession:', process.getActiveResourcesInfo().filter((r) => !/Pipe|TTY/.test(r)).join(', ') || 'nothing')",
    ].join('\n')
    const run = await new Promise<{ code: number | null; out: string }>((done) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env: { PATH: process.env.PATH!, AGB_ENDPOINT: h!.url, AGB_API_KEY: h!.local.apiKey } })
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (out += d))
      // The heartbeat is 20 s: a program held open by the socket or its timers would still run at
      // 17 s (the program itself, with a sandbox to make and delete, can take several seconds).
      const timer = setTimeout(() => child.kill('SIGKILL'), 17_000)
      child.on('close', (code) => {
        clearTimeout(timer)
        done({ code, out })
      })
    })
    expect(run.out).toMatch(/left open after deleteSession:/)
    expect(run.code, `the program did not exit by itself within 17 s: ${run.out.trim()}`).toBe(0)
  })
})
