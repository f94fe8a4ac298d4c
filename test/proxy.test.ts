import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  callTool,
  createClient,
  createSession,
  deleteSession,
  exec,
  getSession,
  isAgbError,
  listSessions,
  readFile,
  runCode,
  uploadFile,
  writeFile,
  type Client,
} from '../src/index.ts'
import { createProxyHandler } from '../src/proxy.ts'
import { createAgbLocal, type AgbLocal } from '../server/index.ts'
import { IMAGE } from './helpers/local.ts'

// The browser-side client talks only to the proxy, without a key; the proxy talks to AGB Local.
let local: AgbLocal
let browser: Client
let proxy: (request: Request) => Promise<Response>
beforeAll(() => {
  local = createAgbLocal()
  // The caller's id comes from a header here; the attack tests use a cookie login.
  const authorize = (request: Request) => request.headers.get('x-test-user')
  proxy = createProxyHandler({ apiKey: local.apiKey, endpoint: 'http://agb.local', fetch: local.fetch, authorize, basePath: '/agb', imageIds: [IMAGE], maxSessions: 2, origins: ['https://app.example'] })
  browser = createClient({ endpoint: 'https://proxy.example/agb', proxy: true, headers: { 'x-test-user': 'alice' }, fetch: (input, init) => proxy(new Request(input, init)) })
})
afterAll(() => local.close())

const mounted = (basePath: string) => {
  const handler = createProxyHandler({ apiKey: local.apiKey, endpoint: 'http://agb.local', fetch: local.fetch, public: true, basePath })
  return createClient({ endpoint: `https://proxy.example${basePath}`, proxy: true, fetch: (input, init) => handler(new Request(input, init)) })
}

describe('agb-micro/proxy', () => {
  it('runs the whole flow for a keyless browser client; the key never leaves the server', async () => {
    const client = mounted('')
    const session = await createSession(client, { imageId: IMAGE })
    try {
      expect((await runCode(client, session, '6 * 7')).text).toBe('42')
      expect((await exec(client, session, 'echo hi')).stdout).toBe('hi\n')
      await writeFile(client, session, '/tmp/p.txt', 'via proxy')
      expect(await readFile(client, session, '/tmp/p.txt')).toBe('via proxy')
    } finally {
      await deleteSession(client, session)
    }
    // Every request AGB Local saw came from the proxy with the key; the browser sent none.
    expect(local.requests.every((r) => r.headers.authorization === `Bearer ${local.apiKey}`)).toBe(true)
  })

  it('hands out signed session ids and strips session tokens and session hosts', async () => {
    const session = await createSession(browser, { imageId: IMAGE })
    expect(session.id).toMatch(/~/)
    expect(session.token).toBeUndefined()
    expect(session.wsUrl).toBeUndefined()
    const again = await getSession(browser, session.id)
    expect(again.token).toBeUndefined()
    expect(again.linkUrl).toBeUndefined()
    await deleteSession(browser, session)
  })

  it('refuses sessions it did not create', async () => {
    const direct = await createSession(createClient({ apiKey: local.apiKey, endpoint: 'http://agb.local', fetch: local.fetch }), { imageId: IMAGE })
    for (const id of [direct.id, `${direct.id}~forged`]) {
      const error = await runCode(browser, id, '1').catch((e: unknown) => e)
      expect(isAgbError(error, 'unauthorized'), id).toBe(true)
      expect((error as Error).message).toMatch(/not created through this proxy/)
    }
    await deleteSession(createClient({ apiKey: local.apiKey, endpoint: 'http://agb.local', fetch: local.fetch }), direct)
  })

  it('allows only configured images and at most maxSessions live sessions', async () => {
    const error = await createSession(browser, { imageId: 'agb-code-space-2' }).catch((e: unknown) => e)
    expect(isAgbError(error, 'unauthorized')).toBe(true)
    expect((error as Error).message).toMatch(/image agb-code-space-2 is not allowed/)
    const a = await createSession(browser, { imageId: IMAGE, retry: false })
    const b = await createSession(browser, { imageId: IMAGE, retry: false })
    const over = await createSession(browser, { imageId: IMAGE, retry: false }).catch((e: unknown) => e)
    expect(isAgbError(over, 'rate_limited')).toBe(true)
    expect((over as Error).message).toMatch(/at most 2 live sessions/)
    await Promise.all([deleteSession(browser, a), deleteSession(browser, b)])
  })

  it('lists only its own sessions', async () => {
    const mine = await createSession(browser, { imageId: IMAGE })
    const other = await createSession(createClient({ apiKey: local.apiKey, endpoint: 'http://agb.local', fetch: local.fetch }), { imageId: IMAGE })
    const listed = (await listSessions(browser)).sessions.map((s) => s.id)
    expect(listed).toEqual([mine.id])
    await deleteSession(browser, mine)
    await deleteSession(createClient({ apiKey: local.apiKey, endpoint: 'http://agb.local', fetch: local.fetch }), other)
  })

  it('refuses operations that are not allowed', async () => {
    const session = await createSession(browser, { imageId: IMAGE })
    const tool = await callTool(browser, session, 'get_screen_size').catch((e: unknown) => e)
    expect(isAgbError(tool, 'unauthorized')).toBe(true)
    const upload = await uploadFile(browser, session, 'x.txt', 'x').catch((e: unknown) => e)
    expect(isAgbError(upload, 'unauthorized')).toBe(true)
    expect((upload as Error).message).toMatch(/transfer is not allowed/)
    await deleteSession(browser, session)
  })

  it('answers CORS only for configured origins', async () => {
    const preflight = await proxy(new Request('https://proxy.example/agb/mcp/createSession', { method: 'OPTIONS', headers: { origin: 'https://app.example' } }))
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example')
    const stranger = await proxy(new Request('https://proxy.example/agb/mcp/createSession', { method: 'OPTIONS', headers: { origin: 'https://evil.example' } }))
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('rejects bad options before serving anything', () => {
    expect(() => createProxyHandler({ apiKey: '', public: true })).toThrow(/apiKey/)
    expect(() => createProxyHandler({ apiKey: 'k', public: true, allow: ['everything' as never] })).toThrow(/allow/)
    expect(() => createProxyHandler({ apiKey: 'k', public: true, maxBodyBytes: 0 })).toThrow(/maxBodyBytes must be at least 1/)
    expect(() => createProxyHandler({ apiKey: 'k', public: true, authorize: () => 'a' })).toThrow(/not both/)
  })

  it('with public: true every caller is the same anonymous client, as the README warns', async () => {
    const one = mounted('/public')
    const other = mounted('/public')
    const session = await createSession(one, { imageId: IMAGE })
    expect((await listSessions(other)).sessions.map((s) => s.id)).toContain(session.id)
    expect((await exec(other, session.id, 'echo shared')).stdout).toBe('shared\n')
    await deleteSession(other, session.id)
  })

  it('refuses to be created open: without authorize it needs public: true', () => {
    expect(() => createProxyHandler({ apiKey: 'k' })).toThrow(/needs authorize .* or public: true/)
    expect(() => createProxyHandler({ apiKey: 'k', public: false })).toThrow(/needs authorize/)
    expect(typeof createProxyHandler({ apiKey: 'k', public: true })).toBe('function')
  })
})
