import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'

const local = createAgbLocal({ apiKey: 'akm-test-key' })
afterAll(() => local.close())
const url = 'http://agb.local/mcp/createSession?imageId=agb-code-space-1'

describe('AGB Local auth and CORS', () => {
  it('rejects a wrong key with the 403 AccessDenied envelope', async () => {
    const res = await local.fetch(url, { method: 'POST', headers: { authorization: 'Bearer akm-invalid', 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(403)
    const json = await res.json()
    expect(json).toEqual({ success: false, code: 'AccessDenied', message: 'access denied', httpStatusCode: 403, requestId: expect.any(String) })
    expect(res.headers.get('x-request-id')).toBe(json.requestId)
    expect(local.liveSessions()).toBe(0)
  })

  it('rejects a missing key and a key without the Bearer prefix', async () => {
    for (const headers of [{}, { authorization: 'akm-test-key' }] as Array<Record<string, string>>) {
      const res = await local.fetch(url, { method: 'POST', headers, body: '{}' })
      expect(res.status).toBe(403)
    }
  })

  it('accepts the right key', async () => {
    const res = await local.fetch(url, { method: 'POST', headers: { authorization: 'Bearer akm-test-key' }, body: '{}' })
    expect((await res.json()).data.success).toBe(true)
  })

  it('answers a preflight with 204 and CORS headers, without auth', async () => {
    const res = await local.fetch(url, { method: 'OPTIONS', headers: { origin: 'http://page.example', 'access-control-request-method': 'POST' } })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-headers')).toBe('authorization, content-type, x-access-token')
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, HEAD, POST, PUT, DELETE, OPTIONS')
  })

  it('puts CORS headers on errors too', async () => {
    const res = await local.fetch(url, { method: 'POST', body: '{}' })
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-expose-headers')).toBe('x-request-id')
  })

  it('answers unknown routes with a 404 envelope', async () => {
    const res = await local.fetch('http://agb.local/nope', { headers: { authorization: 'Bearer akm-test-key' } })
    expect(res.status).toBe(404)
    expect((await res.json()).success).toBe(false)
  })

  it('answers malformed JSON with InvalidParameter', async () => {
    const res = await local.fetch('http://agb.local/mcp/getSessionInfo', { method: 'POST', headers: { authorization: 'Bearer akm-test-key' }, body: '{nope' })
    expect(res.status).toBe(400)
    expect((await res.json()).code).toBe('InvalidParameter')
  })
})
