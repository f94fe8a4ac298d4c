import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { localClient, waitFor } from './localClient.ts'

const local = createAgbLocal()
const api = localClient(local)
afterAll(() => local.close())

describe('AGB Local sessions', () => {
  it('creates a session with the fields and encodings of the service', async () => {
    const res = await api.post('/mcp/createSession?imageId=agb-code-space-1&sdkStats=%7B%7D', { labels: '{"env":"test"}', timeout: 300 })
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({ success: true, code: 'OK', requestId: expect.any(String) })
    expect(res.headers.get('x-request-id')).toBe(res.json.requestId)
    expect(res.headers.get('content-type')).toContain('application/json')
    const data = res.json.data
    expect(data).toMatchObject({ success: true, sessionId: expect.any(String), resourceUrl: expect.any(String), appInstanceId: expect.any(String), resourceId: expect.any(String), token: expect.any(String) })
    expect(data.linkUrl).toBe(`http://agb.local/link/${data.sessionId}`)
    expect(data.wsUrl).toBe(`ws://agb.local/ws/${data.sessionId}`)
    expect(typeof data.toolList).toBe('string')
    const tools = JSON.parse(data.toolList)
    expect(tools.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['run_code', 'shell']))
    expect(tools[0]).toEqual({ name: expect.any(String), description: expect.any(String), inputSchema: expect.any(Object), server: 'wuying_codespace', tool: tools[0].name })
  })

  it('reports an unknown image as a soft failure inside an OK envelope', async () => {
    const res = await api.post('/mcp/createSession?imageId=no-such-image', {})
    expect(res.status).toBe(200)
    expect(res.json.success).toBe(true)
    expect(res.json.data).toEqual({ success: false, errMsg: 'Invalid image_id: no-such-image' })
  })

  it('refuses sessions beyond maxSessions with a soft failure', async () => {
    const small = createAgbLocal({ maxSessions: 1 })
    try {
      const api2 = localClient(small)
      await api2.createSession()
      const res = await api2.post('/mcp/createSession?imageId=agb-code-space-1', {})
      expect(res.json.data).toMatchObject({ success: false, errMsg: expect.stringContaining('quota exceeded') })
    } finally {
      await small.close()
    }
  })

  it('rejects a missing imageId with InvalidParameter', async () => {
    const res = await api.post('/mcp/createSession', {})
    expect(res.json).toMatchObject({ success: false, code: 'InvalidParameter' })
  })

  it('answers getSession and getSessionInfo for a running session', async () => {
    const id = await api.createSession()
    const full = await api.post('/mcp/getSession', { sessionId: id })
    expect(full.json.data).toMatchObject({ sessionId: id, status: 'RUNNING', token: expect.any(String), toolList: expect.any(String) })
    const info = await api.post('/mcp/getSessionInfo', { sessionId: id })
    expect(info.status).toBe(200)
    expect(info.json).toMatchObject({ success: true, httpStatusCode: 200, data: { status: 'RUNNING' } })
  })

  it('goes DELETING/FINISH after releaseSessionAsync and refuses tool calls', async () => {
    const id = await api.createSession()
    await api.runCode(id, 'x = 1')
    const release = await api.post('/mcp/releaseSessionAsync', { sessionId: id })
    expect(release.json).toMatchObject({ success: true, httpStatusCode: 200 })
    const info = await api.post('/mcp/getSessionInfo', { sessionId: id })
    expect(['DELETING', 'FINISH']).toContain(info.json.data.status)
    await waitFor(async () => (await api.post('/mcp/getSessionInfo', { sessionId: id })).json.data?.status === 'FINISH')
    const call = await api.callTool(id, 'run_code', { code: 'print(1)', language: 'python', timeout_s: 60 })
    expect(call.status).toBe(200)
    expect(call.json).toMatchObject({ success: false, code: 'InvalidSession.NotFound', message: 'Session not found', data: {} })
    const full = await api.post('/mcp/getSession', { sessionId: id })
    expect(full.status).toBe(400)
    expect(full.json).toMatchObject({ success: false, code: 'InvalidMcpSession.NotFound', httpStatusCode: 400 })
  })

  it('releases synchronously with the seed-era releaseSession', async () => {
    const id = await api.createSession()
    const res = await api.post('/mcp/releaseSession', { sessionId: id })
    expect(res.json.success).toBe(true)
    expect((await api.post('/mcp/getSessionInfo', { sessionId: id })).json.data.status).toBe('FINISH')
  })

  it('reports an unknown session as InvalidMcpSession.NotFound with status 400', async () => {
    const res = await api.post('/mcp/getSessionInfo', { sessionId: 'session-nope' })
    expect(res.status).toBe(400)
    expect(res.json).toEqual({ success: false, code: 'InvalidMcpSession.NotFound', message: 'session not found', httpStatusCode: 400, requestId: expect.any(String) })
  })

  it('refreshes the idle timer through refreshSessionIdleTime', async () => {
    const id = await api.createSession()
    const res = await api.post(`/mcp/refreshSessionIdleTime?sessionId=${id}`, {})
    expect(res.json).toMatchObject({ success: true, httpStatusCode: 200 })
    expect((await api.post('/mcp/refreshSessionIdleTime?sessionId=session-nope', {})).json.success).toBe(false)
  })

  it('answers an unknown tool with isError', async () => {
    const id = await api.createSession()
    const res = await api.callTool(id, 'no_such_tool', {})
    expect(res.json.success).toBe(true)
    expect(res.isError).toBe(true)
    expect(res.text).toContain('no_such_tool')
  })

  it('records every request it saw', async () => {
    await api.post('/mcp/getSessionInfo', { sessionId: 'recorded-id' })
    const last = local.requests.at(-1)!
    expect(last).toMatchObject({ method: 'POST', url: 'http://agb.local/mcp/getSessionInfo', body: '{"sessionId":"recorded-id"}' })
    expect(last.headers.authorization).toBe(`Bearer ${local.apiKey}`)
  })
})

describe('AGB Local idle release', () => {
  it('releases an idle session and kills its processes; status polling does not keep it alive', async () => {
    const idle = createAgbLocal({ defaultIdleTimeout: 1 })
    const api2 = localClient(idle)
    try {
      const id = await api2.createSession()
      await api2.runCode(id, 'y = 2') // a live python kernel
      expect(idle.sessionProcessCount()).toBe(1)
      await waitFor(async () => (await api2.post('/mcp/getSessionInfo', { sessionId: id })).json.data?.status === 'FINISH', 4000)
      expect(idle.liveSessions()).toBe(0)
      expect(idle.sessionProcessCount()).toBe(0)
    } finally {
      await idle.close()
    }
  })

  it('uses the timeout sent by createSession and keeps a session alive while it is used', async () => {
    const id = await api.createSession({ timeout: 1 })
    // 1.2 s in all, past the 1 s idle timeout; a refresh every 200 ms leaves room for a slow call.
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 200))
      await api.post(`/mcp/refreshSessionIdleTime?sessionId=${id}`, {})
    }
    expect((await api.post('/mcp/getSessionInfo', { sessionId: id })).json.data.status).toBe('RUNNING')
    await waitFor(async () => (await api.post('/mcp/getSessionInfo', { sessionId: id })).json.data?.status === 'FINISH', 4000)
  })

  it('releases a session at its maximum lifetime', async () => {
    const short = createAgbLocal({ maxLifetime: 0.5 })
    const api2 = localClient(short)
    try {
      const id = await api2.createSession()
      await waitFor(async () => (await api2.post('/mcp/getSessionInfo', { sessionId: id })).json.data?.status === 'FINISH', 3000)
    } finally {
      await short.close()
    }
  })
})
