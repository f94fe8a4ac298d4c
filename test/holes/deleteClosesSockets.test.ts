// The README: a session's WebSocket (opened by streamCode, shared by its streams) is "closed by
// deleteSession". Checked on AGB Local's side over real loopback: the socket it accepted for
// the session is gone once deleteSession returns, also for `wait: false`, and a second session's
// socket is left alone. AGB Local also closes a released session's sockets itself, so the last
// test withholds the release from it (the service answers as the AGB cloud does when it
// releases later): only the SDK can close the socket there.
import { WebSocket } from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { createClient, createSession, deleteSession, streamCode } from '../../src/index.ts'
import { IMAGE, startLocal, type LocalHarness } from '../helpers/local.ts'
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

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  for (const started = Date.now(); !check() && Date.now() - started < ms; ) await new Promise((r) => setTimeout(r, 20))
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
      await until(() => h.local.openSockets(a.id) === 0)
      expect(h.local.openSockets(a.id)).toBe(0)
      expect(h.local.openSockets(b.id)).toBe(1)
      await deleteSession(client, b)
      await until(() => h.local.openSockets() === 0)
      expect(h.local.openSockets()).toBe(0)
    })
  }

  it('closes the socket on the client side, whatever the service does with its end', async () => {
    const { h, client } = await harness(releaseWithheld)
    const a = await createSession(client, { imageId: IMAGE })
    await streamOnce(client, a.id)
    expect(h.local.openSockets(a.id)).toBe(1)
    await deleteSession(client, a, { wait: false })
    await until(() => h.local.openSockets(a.id) === 0)
    expect(h.local.liveSessions()).toBe(1) // AGB Local never saw the release…
    expect(h.local.openSockets(a.id)).toBe(0) // …so the SDK closed the socket
  })
})
