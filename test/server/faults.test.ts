import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal, serve } from '../../server/index.ts'
import type { Server } from '../../server/index.ts'
import { localClient } from './localClient.ts'

const local = createAgbLocal()
const api = localClient(local)
let server: Server
beforeAll(async () => {
  server = await serve(local)
})
afterEach(() => local.faults.clear())
afterAll(async () => {
  await server.close()
  await local.close()
})

const headers = () => ({ authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json' })
const CREATE = '/mcp/createSession?imageId=agb-code-space-1'

function inject(path: string, init: RequestInit = {}) {
  return local.fetch(`http://agb.local${path}`, { method: 'POST', headers: headers(), body: '{}', ...init })
}

function overLoopback(path: string, init: RequestInit = {}) {
  return fetch(`${server.url}${path}`, { method: 'POST', headers: headers(), body: '{}', ...init })
}

describe('fault injection', () => {
  it('answers an HTTP status with a failure envelope, the chosen number of times', async () => {
    local.faults.add({ route: '/mcp/createSession', kind: 'status', status: 503, times: 2 })
    for (let i = 0; i < 2; i++) {
      const res = await inject(CREATE)
      expect(res.status).toBe(503)
      expect(res.headers.get('access-control-allow-origin')).toBe('*')
      expect(await res.json()).toMatchObject({ success: false, code: 'ServiceUnavailable', httpStatusCode: 503, requestId: expect.any(String) })
    }
    expect(local.faults.pending()).toBe(0)
    expect((await inject(CREATE)).status).toBe(200)
  })

  it('answers 429 with Retry-After and a Throttling envelope', async () => {
    local.faults.add({ route: '/mcp/createSession', kind: 'retry-after', retryAfter: 3 })
    const res = await inject(CREATE)
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('3')
    expect(await res.json()).toMatchObject({ success: false, code: 'Throttling' })
  })

  it('sends malformed JSON, an HTML error page, or an empty body', async () => {
    local.faults.add({ route: '/mcp/createSession', kind: 'malformed-json' })
    local.faults.add({ route: '/mcp/createSession', kind: 'html' })
    local.faults.add({ route: '/mcp/createSession', kind: 'empty', status: 204 })
    const malformed = await inject(CREATE)
    expect(malformed.status).toBe(200)
    expect(malformed.headers.get('content-type')).toContain('application/json')
    await expect(malformed.clone().json()).rejects.toThrow()
    const html = await inject(CREATE)
    expect(html.status).toBe(502)
    expect(html.headers.get('content-type')).toContain('text/html')
    expect(await html.text()).toContain('<h1>502 Bad Gateway</h1>')
    const empty = await inject(CREATE)
    expect(empty.status).toBe(204)
    expect(await empty.text()).toBe('')
  })

  it('sends a success:false envelope over HTTP 200', async () => {
    local.faults.add({ route: '/mcp/getSessionInfo', kind: 'envelope-failure', code: 'InternalError', message: 'boom' })
    const res = await inject('/mcp/getSessionInfo', { body: JSON.stringify({ sessionId: 'x' }) })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ success: false, code: 'InternalError', message: 'boom', httpStatusCode: 500 })
  })

  it('fails only the chosen tool with isError, on /mcp and on the linkUrl route', async () => {
    const id = await api.createSession()
    local.faults.add({ tool: 'shell', kind: 'tool-error', message: 'Error: injected', times: 2 })
    expect((await api.callTool(id, 'get_metrics', {})).isError).toBe(false)
    const res = await api.callTool(id, 'shell', { command: 'echo hi' })
    expect(res.json).toMatchObject({ success: true, data: { isError: true, content: [{ type: 'text', text: 'Error: injected' }] } })
    const created = await api.post('/mcp/getSession', { sessionId: id })
    const { linkUrl, token } = created.json.data
    const link = await local.fetch(`${linkUrl}/callTool`, { method: 'POST', headers: { 'x-access-token': token }, body: JSON.stringify({ tool: 'shell', args: { command: 'echo hi' }, token }) })
    expect(JSON.parse((await link.json()).data)).toEqual({ result: { isError: true, content: [{ type: 'text', text: 'Error: injected' }] } })
    expect((await api.shell(id, 'echo fine')).stdout).toBe('fine\n')
  })

  it('sends a success envelope whose data has the wrong type', async () => {
    local.faults.add({ route: '/sdk/ListSession', kind: 'schema' })
    const res = await inject('/sdk/ListSession', { method: 'GET', body: null })
    expect(await res.json()).toMatchObject({ success: true, data: 42 })
  })

  it('hangs until the caller aborts', async () => {
    local.faults.add({ route: '/mcp/createSession', kind: 'hang' })
    const started = Date.now()
    await expect(inject(CREATE, { signal: AbortSignal.timeout(150) })).rejects.toMatchObject({ name: 'TimeoutError' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    local.faults.add({ route: '/mcp/createSession', kind: 'hang' })
    await expect(overLoopback(CREATE, { signal: AbortSignal.timeout(150) })).rejects.toMatchObject({ name: 'TimeoutError' })
    expect((await overLoopback(CREATE)).status).toBe(200) // the server is fine afterwards
  })

  it('releases hanging requests when the AgbLocal closes', async () => {
    const other = createAgbLocal()
    other.faults.add({ kind: 'hang' })
    const pending = other.fetch('http://agb.local/mcp/createSession?imageId=agb-code-space-1', { method: 'POST', headers: { authorization: `Bearer ${other.apiKey}` }, body: '{}' })
    const rejected = expect(pending).rejects.toThrow(/closed/)
    await other.close()
    await rejected
  })

  it('drops the connection: a TypeError through the handler, a closed socket over loopback', async () => {
    local.faults.add({ route: '/mcp/createSession', kind: 'drop', times: 2 })
    await expect(inject(CREATE)).rejects.toMatchObject({ name: 'TypeError', message: 'fetch failed' })
    await expect(overLoopback(CREATE)).rejects.toMatchObject({ name: 'TypeError' })
    expect((await overLoopback(CREATE)).status).toBe(200)
    expect(local.requests.filter((r) => r.url.endsWith(CREATE)).length).toBeGreaterThanOrEqual(3) // recorded all the same
  })

  it('drips the real answer one byte at a time', async () => {
    local.faults.add({ route: '/mcp/getSessionInfo', kind: 'slow-drip', intervalMs: 2, times: 2 })
    const id = await api.createSession()
    const body = JSON.stringify({ sessionId: id })
    const started = Date.now()
    const res = await overLoopback('/mcp/getSessionInfo', { body })
    const text = await res.text()
    expect(JSON.parse(text)).toMatchObject({ success: true, data: { status: 'RUNNING' } })
    expect(Date.now() - started).toBeGreaterThanOrEqual(text.length * 2 * 0.9)
    const injected = await inject('/mcp/getSessionInfo', { body })
    let chunks = 0
    let bytes = 0
    for await (const chunk of injected.body as unknown as AsyncIterable<Uint8Array>) {
      chunks++
      bytes += chunk.length
    }
    expect(chunks).toBe(bytes)
  })

  it('stops dripping when the client goes away', async () => {
    local.faults.add({ route: '/mcp/createSession', kind: 'slow-drip', intervalMs: 50 })
    await expect(overLoopback(CREATE, { signal: AbortSignal.timeout(150) }).then((r) => r.text())).rejects.toMatchObject({ name: 'TimeoutError' })
    expect((await overLoopback(CREATE)).status).toBe(200)
  })

  it('matches route prefixes, tools on any route, and runs until cleared with times: Infinity', async () => {
    local.faults.add({ route: '/sdk/*', kind: 'status', status: 500, times: Infinity })
    expect(local.faults.pending()).toBe(Infinity)
    expect((await inject('/sdk/GetLabel?sessionId=x', { method: 'GET', body: null })).status).toBe(500)
    expect((await inject('/sdk/ListSession', { method: 'GET', body: null })).status).toBe(500)
    expect((await inject(CREATE)).status).toBe(200)
    local.faults.clear()
    expect(local.faults.pending()).toBe(0)
    expect((await inject('/sdk/ListSession', { method: 'GET', body: null })).status).toBe(200)
  })

  it('lets the request take effect, then loses its answer (dropped, hung, 500 or malformed)', async () => {
    const before = local.liveSessions()
    local.faults.add({ route: '/mcp/createSession', kind: 'lost-answer' })
    await expect(inject(CREATE)).rejects.toMatchObject({ name: 'TypeError', message: 'fetch failed' })
    expect(local.liveSessions()).toBe(before + 1)
    local.faults.add({ route: '/mcp/createSession', kind: 'lost-answer', lostAs: 'drop' })
    await expect(overLoopback(CREATE)).rejects.toMatchObject({ name: 'TypeError' })
    expect(local.liveSessions()).toBe(before + 2)
    local.faults.add({ route: '/mcp/createSession', kind: 'lost-answer', lostAs: 'status', status: 502 })
    const failed = await inject(CREATE)
    expect(failed.status).toBe(502)
    expect(JSON.stringify(await failed.json())).not.toContain('sessionId')
    expect(local.liveSessions()).toBe(before + 3)
    local.faults.add({ route: '/mcp/createSession', kind: 'lost-answer', lostAs: 'malformed-json' })
    await expect((await inject(CREATE)).json()).rejects.toThrow()
    local.faults.add({ route: '/mcp/createSession', kind: 'lost-answer', lostAs: 'hang' })
    await expect(inject(CREATE, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({ name: 'TimeoutError' })
    expect(local.liveSessions()).toBe(before + 5)
    // A tool call takes effect too: the file is there although the answer was lost.
    const id = await api.createSession()
    local.faults.add({ tool: 'write_file', kind: 'lost-answer' })
    await expect(api.callTool(id, 'write_file', { path: '/tmp/lost.txt', content: 'written' })).rejects.toThrow('fetch failed')
    expect((await api.shell(id, 'cat /tmp/lost.txt')).stdout).toBe('written')
    expect(() => local.faults.add({ kind: 'lost-answer', lostAs: 'explode' as never })).toThrow(TypeError)
  })

  it('rejects invalid fault specs', () => {
    expect(() => local.faults.add({ kind: 'explode' as never })).toThrow(TypeError)
    expect(() => local.faults.add({ kind: 'status', times: 0 })).toThrow(TypeError)
    expect(() => local.faults.add({ kind: 'status', route: 'mcp' })).toThrow(TypeError)
    expect(() => local.faults.add({ kind: 'status', status: 100 })).toThrow(TypeError)
    expect(() => local.faults.add({ kind: 'retry-after', retryAfter: -1 })).toThrow(TypeError)
    expect(local.faults.pending()).toBe(0)
  })
})
