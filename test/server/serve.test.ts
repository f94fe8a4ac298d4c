import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal, serve } from '../../server/index.ts'
import type { Server } from '../../server/index.ts'

const local = createAgbLocal()
let server: Server
beforeAll(async () => {
  server = await serve(local)
})
afterAll(async () => {
  await server.close()
  await local.close()
})

async function post(path: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${local.apiKey}` }) {
  const res = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  return { res, json: (await res.json()) as Record<string, any> }
}

describe('serve() over loopback', () => {
  it('listens on 127.0.0.1 with an ephemeral port', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
    expect(server.port).toBeGreaterThan(0)
  })

  it('runs create → run_code → release over real HTTP', async () => {
    const created = await post('/mcp/createSession?imageId=agb-code-space-1', {})
    const data = created.json.data
    expect(data.linkUrl).toBe(`${server.url}/link/${data.sessionId}`)
    expect(data.wsUrl).toBe(`ws://127.0.0.1:${server.port}/ws/${data.sessionId}`)
    const run = await post('/mcp?autoGenSession=false', { args: JSON.stringify({ code: "print('Hello, World!')", language: 'python', timeout_s: 60 }), sessionId: data.sessionId, name: 'run_code' })
    expect(run.res.headers.get('access-control-allow-origin')).toBe('*')
    expect(JSON.parse(run.json.data.content[0].text).stdout).toEqual(['Hello, World!\n'])
    const released = await post('/mcp/releaseSessionAsync', { sessionId: data.sessionId })
    expect(released.json.success).toBe(true)
  })

  it('serves the linkUrl callTool route with the session token, not the API key', async () => {
    const { json } = await post('/mcp/createSession?imageId=agb-code-space-1', {})
    const { linkUrl, token } = json.data
    const body = { args: { command: 'echo direct-link-url-route-ok' }, server: 'wuying_codespace', requestId: 'link-1-000000042', tool: 'shell', token }
    const denied = await fetch(`${linkUrl}/callTool`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-access-token': 'wrong' }, body: JSON.stringify(body) })
    expect(denied.status).toBe(401)
    const res = await fetch(`${linkUrl}/callTool`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-access-token': token }, body: JSON.stringify(body) })
    const outer = await res.json()
    expect(typeof outer.data).toBe('string')
    const result = JSON.parse(outer.data).result
    expect(result.isError).toBe(false)
    expect(JSON.parse(result.content[0].text)).toMatchObject({ stdout: 'direct-link-url-route-ok\n', exit_code: 0 })
  })

  it('refuses a WebSocket upgrade for an unknown session with HTTP 404', async () => {
    const { request } = await import('node:http')
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/ws/x`, { headers: { connection: 'Upgrade', upgrade: 'websocket' } })
      req.on('response', (r) => resolve(r.statusCode ?? 0))
      req.on('upgrade', () => reject(new Error('unexpected upgrade')))
      req.on('error', reject)
      req.end()
    })
    expect(status).toBe(404)
  })
})
