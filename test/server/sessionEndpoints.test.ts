import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { localClient } from './localClient.ts'

const local = createAgbLocal()
const api = localClient(local)
afterAll(() => local.close())

async function get(path: string) {
  const res = await local.fetch(`http://agb.local${path}`, { headers: { authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json' } })
  return { status: res.status, json: (await res.json()) as Record<string, any> }
}

const q = (value: unknown) => encodeURIComponent(JSON.stringify(value))

describe('ListSession', () => {
  it('pages through the sessions carrying every given label, with top-level nextToken, maxResults and count', async () => {
    const tag = `t${Date.now()}`
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push(await api.createSession({ labels: JSON.stringify({ suite: tag, n: String(i % 2) }) }))
    await api.createSession({ labels: JSON.stringify({ other: tag }) })
    const seen: string[] = []
    let token: string | undefined
    let pages = 0
    do {
      const res = await get(`/sdk/ListSession?maxResults=2&labels=${q({ suite: tag })}${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`)
      expect(res.status).toBe(200)
      expect(res.json).toMatchObject({ success: true, maxResults: 2, count: 5 })
      expect(res.json.data.every((s: any) => s.sessionStatus === 'RUNNING')).toBe(true)
      seen.push(...res.json.data.map((s: any) => s.sessionId))
      token = res.json.nextToken
      pages++
    } while (token)
    expect(pages).toBe(3)
    expect(seen).toEqual(ids)
    const both = await get(`/sdk/ListSession?labels=${q({ suite: tag, n: '1' })}`)
    expect(both.json.data.map((s: any) => s.sessionId)).toEqual([ids[1], ids[3]])
    expect(both.json).toMatchObject({ maxResults: 10, count: 2 })
    expect(both.json).not.toHaveProperty('nextToken')
  })

  it('leaves released sessions out', async () => {
    const tag = `r${Date.now()}`
    const id = await api.createSession({ labels: JSON.stringify({ suite: tag }) })
    await api.post('/mcp/releaseSession', { sessionId: id })
    expect((await get(`/sdk/ListSession?labels=${q({ suite: tag })}`)).json).toMatchObject({ data: [], count: 0 })
  })

  it('rejects a bad nextToken, maxResults or labels with InvalidParameter', async () => {
    for (const query of ['nextToken=garbage', 'maxResults=0', 'labels=not-json']) {
      const res = await get(`/sdk/ListSession?${query}`)
      expect(res.json, query).toMatchObject({ success: false, code: 'InvalidParameter' })
    }
  })
})

describe('SetLabel / GetLabel', () => {
  it('replaces the labels and returns them as a JSON string', async () => {
    const id = await api.createSession({ labels: JSON.stringify({ a: '1' }) })
    expect(JSON.parse((await get(`/sdk/GetLabel?sessionId=${id}`)).json.data.labels)).toEqual({ a: '1' })
    const set = await api.post(`/sdk/SetLabel?sessionId=${id}&Labels=${q({ project: 'demo', environment: 'production' })}`, {})
    expect(set.json).toMatchObject({ success: true })
    const got = await get(`/sdk/GetLabel?sessionId=${id}`)
    expect(typeof got.json.data.labels).toBe('string')
    expect(JSON.parse(got.json.data.labels)).toEqual({ project: 'demo', environment: 'production' })
    expect((await get(`/sdk/ListSession?labels=${q({ project: 'demo' })}`)).json.data.map((s: any) => s.sessionId)).toContain(id)
  })

  it('rejects labels that are not a JSON object and unknown sessions', async () => {
    const id = await api.createSession()
    expect((await api.post(`/sdk/SetLabel?sessionId=${id}&Labels=oops`, {})).json).toMatchObject({ success: false, code: 'InvalidParameter' })
    expect((await api.post(`/sdk/SetLabel?sessionId=${id}`, {})).json).toMatchObject({ success: false, code: 'InvalidParameter' })
    expect((await api.post(`/sdk/SetLabel?sessionId=nope&Labels=${q({ a: 'b' })}`, {})).json).toMatchObject({ success: false, code: 'InvalidMcpSession.NotFound' })
    expect((await get('/sdk/GetLabel?sessionId=nope')).json).toMatchObject({ success: false, code: 'InvalidMcpSession.NotFound' })
  })
})

describe('getMcpResource and resourceUrl', () => {
  it('describes a running session and serves its resourceUrl as an HTML status page', async () => {
    const id = await api.createSession()
    const res = await api.post('/mcp/getMcpResource', { sessionId: id })
    expect(res.json.data).toEqual({
      sessionId: id,
      resourceUrl: `http://agb.local/resource/${id}`,
      desktopInfo: { appId: expect.any(String), authCode: '', connectionProperties: '', resourceId: expect.any(String), resourceType: expect.any(String), ticket: '' },
    })
    const page = await local.fetch(res.json.data.resourceUrl) // a browser sends no API key
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    const html = await page.text()
    expect(html).toContain(id)
    expect(html).toContain('RUNNING')
  })

  it('fails for a released session', async () => {
    const id = await api.createSession()
    await api.post('/mcp/releaseSession', { sessionId: id })
    expect((await api.post('/mcp/getMcpResource', { sessionId: id })).json).toMatchObject({ success: false, code: 'InvalidMcpSession.NotFound' })
  })
})

describe('getLink / getCdpLink', () => {
  it('returns a URL for ports 30100–30199 and an InvalidParameter failure otherwise', async () => {
    const id = await api.createSession()
    expect((await get(`/internet/getLink?sessionId=${id}&port=30100`)).json.data).toEqual({ url: 'http://agb.local:30100' })
    expect((await get(`/internet/getLink?sessionId=${id}&port=30199&protocolType=wss`)).json.data).toEqual({ url: 'ws://agb.local:30199' })
    expect((await get(`/mcp/getLink?sessionId=${id}&port=30150`)).json.data).toEqual({ url: 'http://agb.local:30150' })
    for (const port of ['30099', '30200', '8080', 'x', '']) {
      expect((await get(`/internet/getLink?sessionId=${id}&port=${port}`)).json, port).toMatchObject({ success: false, code: 'InvalidParameter' })
    }
    expect((await get('/internet/getLink?sessionId=nope&port=30100')).json).toMatchObject({ success: false, code: 'InvalidMcpSession.NotFound' })
  })

  it('answers getCdpLink for a session without a browser with a failure, never a URL where nothing listens', async () => {
    // The real DevTools URL of browser-use sessions is tested in browser.test.ts.
    const id = await api.createSession()
    const res = await api.post(`/internet/getCdpLink?sessionId=${id}`, {})
    expect(res.json).toMatchObject({ success: false, code: 'InvalidRequest' })
  })
})

describe('listTools', () => {
  it('returns the JSON-encoded tool list of an image, every tool of the catalogue included', async () => {
    const res = await api.post('/mcp/listTools?imageId=agb-code-space-1', {})
    expect(res.json.success).toBe(true)
    expect(typeof res.json.data).toBe('string')
    const names = JSON.parse(res.json.data).map((t: any) => t.name)
    expect(names).toEqual(expect.arrayContaining(['run_code', 'shell', 'read_file', 'write_file', 'get_file_info', 'list_directory', 'create_directory',
      'move_file', 'delete_file', 'edit_file', 'search_files', 'read_multiple_files', 'get_file_change', 'get_metrics']))
  })

  it('answers an unknown image with InvalidRequest / Invalid image_id', async () => {
    const res = await api.post('/mcp/listTools?imageId=nope', {})
    expect(res.json).toMatchObject({ success: false, code: 'InvalidRequest', message: 'Invalid image_id' })
  })
})
