import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'

// Replays the recorded requests of test/fixtures/agb-api against AGB Local and checks that
// each answer has the recorded transport status and the recorded shape: same field names and
// casing, same JSON types, and JSON-in-a-string fields encoded the same way (recursively).
const FIXTURES = join(import.meta.dirname, '../fixtures/agb-api')
const local = createAgbLocal({ apiKey: 'akm-xxx' })
afterAll(() => local.close())

interface Exchange {
  request: { method: string; path: string; url: string; query?: Record<string, string>; headers?: Record<string, string>; body?: unknown }
  response: { status: number; json?: unknown }
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v
}

function decodedJson(v: string): unknown {
  if (!/^\s*[[{]/.test(v)) return undefined
  try {
    return JSON.parse(v)
  } catch {
    return undefined
  }
}

/** Every field of `want` exists in `got` with the same type; arrays compare their first items. */
function expectShape(got: unknown, want: unknown, at: string): void {
  expect(kind(got), `type of ${at}`).toBe(kind(want))
  if (typeof want === 'string') {
    const inner = decodedJson(want)
    if (inner !== undefined) expectShape(decodedJson(got as string), inner, `${at} (decoded)`)
  } else if (Array.isArray(want)) {
    if (want.length && (got as unknown[]).length) expectShape((got as unknown[])[0], want[0], `${at}[0]`)
  } else if (want && typeof want === 'object') {
    for (const [k, v] of Object.entries(want)) {
      expect(got, `${at} has ${k}`).toHaveProperty([k])
      expectShape((got as Record<string, unknown>)[k], v, `${at}.${k}`)
    }
  }
}

type Created = { sessionId: string; token: string; linkUrl: string }

async function createSession(body: Record<string, unknown> = {}): Promise<Created> {
  const res = await local.fetch('http://agb.local/mcp/createSession?imageId=agb-code-space-1', { method: 'POST', headers: { authorization: 'Bearer akm-xxx' }, body: JSON.stringify(body) })
  return (await res.json()).data
}

async function call(path: string, init: { method?: string; body?: unknown } = {}): Promise<Record<string, any>> {
  const res = await local.fetch(`http://agb.local${path}`, {
    method: init.method ?? 'POST',
    headers: { authorization: 'Bearer akm-xxx', 'content-type': 'application/json' },
    ...(init.method === 'GET' ? {} : { body: JSON.stringify(init.body ?? {}) }),
  })
  return res.json()
}

async function tool(sessionId: string, name: string, args: Record<string, unknown>): Promise<void> {
  const res = await call('/mcp?autoGenSession=false', { body: { sessionId, name, args: JSON.stringify(args) } })
  expect(res.data?.isError, `${name} ${JSON.stringify(res)}`).toBe(false)
}

interface ReplayOptions {
  /** Runs on the fresh session before the exchanges (e.g. creates the files a read expects). */
  prepare?: (session: Created) => Promise<void>
  /** Adjusts a request URL (after the session id swap). */
  tweak?: (ex: Exchange, url: URL, session: Created) => void | Promise<void>
}

async function replay(name: string, { prepare, tweak }: ReplayOptions = {}): Promise<void> {
  const fixture = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as { exchanges: Exchange[] }
  const session = await createSession()
  await prepare?.(session)
  // In not-found cases the recorded id stands for a released session: leave it unknown.
  const swap = (s: string) => (name.includes('not-found') ? s : s.replaceAll('new-session-id', session.sessionId))
  for (const [i, ex] of fixture.exchanges.entries()) {
    const url = new URL(ex.request.path ? `http://agb.local${ex.request.path}` : ex.request.url)
    for (const [k, v] of Object.entries(ex.request.query ?? {})) url.searchParams.set(k, swap(v))
    const headers: Record<string, string> = { ...ex.request.headers }
    let body = ex.request.body === undefined || ex.request.body === null ? undefined : swap(JSON.stringify(ex.request.body))
    if (name.startsWith('link-url')) {
      url.href = `${session.linkUrl}/callTool`
      headers['X-Access-Token'] = session.token
      body = body?.replace('"token":"token"', `"token":"${session.token}"`)
    }
    await tweak?.(ex, url, session)
    const res = await local.fetch(url, { method: ex.request.method, headers, ...(body === undefined ? {} : { body }) })
    expect(res.status, `${name} #${i} status`).toBe(ex.response.status)
    expectShape(await res.json(), ex.response.json, `${name} #${i}`)
  }
}

describe('fixture shapes', () => {
  for (const name of [
    'auth-failure', 'create-session.ok', 'get-session.ok', 'get-session.not-found', 'get-session-info.ok',
    'get-session-info.not-found', 'release-session.async.ok', 'release-session.sync.seed', 'keep-alive.ok',
    'call-tool.run-code.ok', 'call-tool.run-code.exception', 'call-tool.shell.ok', 'call-tool.shell.nonzero-exit.ok-envelope',
    'call-tool.session-not-found', 'link-url.call-tool.ok',
  ]) {
    it(`answers ${name} with the recorded shape`, () => replay(name))
  }

  it('answers create-session.fail (unknown image) with the recorded shape', () =>
    replay('create-session.fail', { tweak: (_ex, url) => url.searchParams.set('imageId', 'no-such-image') }))

  for (const name of ['set-labels.ok', 'session-info.ok', 'get-link.ok', 'list-tools.ok', 'call-tool.write-file.ok', 'call-tool.get-metrics.ok']) {
    it(`answers ${name} with the recorded shape`, () => replay(name))
  }

  it('answers get-labels.ok with the recorded shape', () =>
    replay('get-labels.ok', {
      prepare: async (s) => {
        const labels = encodeURIComponent(JSON.stringify({ project: 'demo', environment: 'production' }))
        expect((await call(`/sdk/SetLabel?sessionId=${s.sessionId}&Labels=${labels}`)).success).toBe(true)
      },
    }))

  it('answers get-cdp-link.ok with the recorded shape', () =>
    // Only a browser-use session whose browser runs has a DevTools URL.
    replay('get-cdp-link.ok', {
      tweak: async (_ex, url) => {
        const res = await local.fetch('http://agb.local/mcp/createSession?imageId=agb-browser-use-1', { method: 'POST', headers: { authorization: 'Bearer akm-xxx' }, body: '{}' })
        const id = (await res.json()).data.sessionId as string
        expect((await call(`/browser/init?sessionId=${id}`)).success).toBe(true)
        url.searchParams.set('sessionId', id)
      },
    }), 60_000)

  it('answers call-tool.read-file.text with the recorded shape', () =>
    replay('call-tool.read-file.text', { prepare: (s) => tool(s.sessionId, 'write_file', { path: '/foo/file.txt', content: 'hello world!' }) }))

  it('answers call-tool.read-file.binary with the recorded shape', () =>
    replay('call-tool.read-file.binary', { prepare: (s) => tool(s.sessionId, 'write_file', { path: '/foo/bin', content: 'hello' }) }))

  it('answers call-tool.list-directory.ok with the recorded shape', () =>
    replay('call-tool.list-directory.ok', {
      prepare: async (s) => {
        await tool(s.sessionId, 'create_directory', { path: '/foo/subdir' })
        await tool(s.sessionId, 'write_file', { path: '/foo/file1.txt', content: '1' })
        await tool(s.sessionId, 'write_file', { path: '/foo/file2.txt', content: '2' })
      },
    }))

  describe('with five sessions labelled env=prod', () => {
    beforeAll(async () => {
      for (let i = 0; i < 5; i++) await createSession({ labels: JSON.stringify({ env: 'prod' }) })
    })

    it('answers list-sessions.ok with the recorded shape', () => replay('list-sessions.ok'))

    it('answers list-sessions.next-page with the recorded shape', () =>
      replay('list-sessions.next-page', {
        tweak: async (_ex, url) => {
          const first = await call(`/sdk/ListSession?maxResults=2&labels=${encodeURIComponent('{"env":"prod"}')}`, { method: 'GET' })
          url.searchParams.set('nextToken', first.nextToken)
        },
      }))
  })
})
