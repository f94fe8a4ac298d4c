import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { signHeaders } from '../../server/storage/sigV4.ts'
import { expectShape, storageClient } from './storageHelpers.ts'

// Replays the storage fixtures of test/fixtures/agb-api (contexts, presigned transfer,
// OSS tools) against AGB Local: same transport status, same shape (field names, casing, JSON
// types, JSON-in-a-string encodings). Recorded ids and URLs are swapped for live ones.
const FIXTURES = join(import.meta.dirname, '../fixtures/agb-api')
const BASE = 'http://agb.local'
const local = createAgbLocal({ apiKey: 'akm-xxx' })
const api = storageClient((u, i) => local.fetch(u, i), BASE, local.apiKey)
afterAll(() => local.close())

interface Exchange {
  step?: string
  request: { method: string; path: string | null; url: string; query?: Record<string, string>; headers?: Record<string, string>; body?: unknown; bodyDescription?: string }
  response: { status: number; json?: Record<string, any>; headers?: Record<string, string> }
}

type Rewrite = (text: string) => string

/** Rewrites every recorded value the live run differs in (`rewrite` may change between steps). */
async function replay(name: string, rewrite: () => Rewrite, after?: (i: number, body: any) => void): Promise<Array<{ res: Response; body: unknown }>> {
  const fixture = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as { exchanges: Exchange[] }
  const results: Array<{ res: Response; body: unknown }> = []
  let lastData: Record<string, any> | undefined
  for (const [i, ex] of fixture.exchanges.entries()) {
    const swap = rewrite()
    // A presigned step uses the URL the previous step returned, with no headers at all.
    const presigned = ex.request.path === null
    const url = new URL(presigned ? lastData!.url : `${BASE}${ex.request.path}`)
    for (const [k, v] of Object.entries(ex.request.query ?? {})) url.searchParams.set(k, swap(v))
    const headers = presigned ? {} : { ...ex.request.headers, authorization: `Bearer ${local.apiKey}` }
    const init: RequestInit = { method: ex.request.method, headers }
    if (presigned && ex.request.method === 'PUT') init.body = 'Hello, AGB!'
    else if (ex.request.body !== undefined) init.body = swap(JSON.stringify(ex.request.body))
    let res = await local.fetch(url.href, init)
    let body: unknown = presigned ? await res.text() : await res.json()
    // GetContextInfo is polled until the task finished, as the SDKs do.
    for (let n = 0; ex.request.path === '/sdk/GetContextInfo' && /InProgress/.test(JSON.stringify(body)) && n < 100; n++) {
      await new Promise((r) => setTimeout(r, 20))
      res = await local.fetch(url.href, init)
      body = await res.json()
    }
    expect(res.status, `${name} #${i} status`).toBe(ex.response.status)
    if (ex.response.json) expectShape(body, ex.response.json, `${name} #${i}`)
    for (const h of Object.keys(ex.response.headers ?? {})) expect(res.headers.get(h), `${name} #${i} header ${h}`).toBeTruthy()
    lastData = (body as { data?: Record<string, any> })?.data
    results.push({ res, body })
    after?.(i, body)
  }
  return results
}

async function fileTransferContext(sessionId: string): Promise<string> {
  const res = await api.post('/sdk/GetAndLoadInternalContext', { sessionId, contextTypes: '["file_transfer"]' })
  return res.json.data[0].contextId
}

describe('storage fixture shapes', () => {
  it('answers file-transfer.upload.ok with the recorded shapes, and the bytes reach the sandbox', async () => {
    const sessionId = await api.createSession()
    // GetAndLoadInternalContext is idempotent: the replayed first step returns this same context.
    const contextId = await fileTransferContext(sessionId)
    const [first] = await replay('file-transfer.upload.ok', () => (s) => s.replaceAll('new-session-id', sessionId).replaceAll('ctx-123', contextId))
    expect((first!.body as any).data).toEqual([{ contextId, contextType: 'file_transfer', contextPath: '/tmp/file_transfer' }])
    // The staged object was deleted (last step), but the sync had already copied it.
    expect((await api.shell(sessionId, 'cat /tmp/file_transfer/test.txt')).stdout).toBe('Hello, AGB!')
  })

  it('answers file-transfer.download.ok with the recorded shapes and the sandbox bytes', async () => {
    const sessionId = await api.createSession()
    const contextId = await fileTransferContext(sessionId)
    await api.shell(sessionId, 'printf "from the sandbox" > /tmp/file_transfer/test.txt')
    const results = await replay('file-transfer.download.ok', () => (s) => s.replaceAll('new-session-id', sessionId).replaceAll('ctx-123', contextId))
    expect(results[3]!.body).toBe('from the sandbox')
  })

  it('answers context-get.create.ok with the recorded shape', async () => {
    const [first] = await replay('context-get.create.ok', () => (s) => s)
    const data = (first!.body as { data: { id: string; name: string; state: string } }).data
    expect(data).toMatchObject({ name: 'my-ctx', state: 'available' })
    // Getting it again (allowCreate=false) finds the same context.
    expect((await api.get('/sdk/GetContext', { name: 'my-ctx', allowCreate: 'false' })).json.data.id).toBe(data.id)
  })

  it('answers create-session.context-sync.ok with the recorded shapes (download of the mounted context)', async () => {
    const ctx = (await api.get('/sdk/GetContext', { name: 'sync-fixture', allowCreate: 'true' })).json.data.id as string
    let sessionId = 'new-session-id'
    await replay('create-session.context-sync.ok', () => (s) => s.replaceAll('ctx-123', ctx).replaceAll('new-session-id', sessionId), (i, body) => {
      if (i === 0) sessionId = body.data.sessionId
    })
    const items = await api.contextInfo({ sessionId })
    expect(items).toEqual([expect.objectContaining({ contextId: ctx, path: '/home/data', taskType: 'download', status: 'Success', errorMessage: '' })])
  })

  describe('OSS tools', () => {
    async function prepareSession(): Promise<string> {
      const sessionId = await api.createSession()
      const init = await api.tool(sessionId, 'oss_env_init', { access_key_id: local.oss.accessKeyId, access_key_secret: local.oss.accessKeySecret, security_token: null })
      expect(init.isError, init.text).toBe(false)
      await api.shell(sessionId, 'printf "oss payload" > /tmp/test_oss_upload.txt')
      return sessionId
    }

    async function createBucket(bucket: string): Promise<void> {
      const url = new URL(`${local.oss.endpoint()}/${bucket}`)
      const res = await local.fetch(url.href, { method: 'PUT', headers: signHeaders('PUT', url, {}, { accessKeyId: local.oss.accessKeyId, secretAccessKey: local.oss.accessKeySecret, region: 'us-east-1' }) })
      expect(res.status).toBe(200)
    }

    it('answers oss.env-init.ok with the recorded shape', async () => {
      const sessionId = await api.createSession()
      const [r] = await replay('oss.env-init.ok', () => (s) => s.replaceAll('new-session-id', sessionId))
      expect((r!.body as any).data.content[0].text).toBe('OSS environment initialized')
    })

    it('answers oss.upload.ok and oss.download.ok with the recorded shapes (embedded store)', async () => {
      await createBucket('test-bucket')
      const sessionId = await prepareSession()
      const [up] = await replay('oss.upload.ok', () => (s) => s.replaceAll('new-session-id', sessionId))
      expect((up!.body as any).data).toEqual({ isError: false, content: [{ type: 'text', text: 'Upload success' }] })
      const [down] = await replay('oss.download.ok', () => (s) => s.replaceAll('new-session-id', sessionId))
      expect((down!.body as any).data.content[0].text).toBe('Download success')
      expect((await api.shell(sessionId, 'cat /tmp/test_oss_download.txt')).stdout).toBe('oss payload')
    })

    it('answers oss.upload-anonymous.ok and oss.download-anonymous.ok with the recorded shapes (presigned URLs)', async () => {
      const sessionId = await prepareSession()
      const putUrl = local.oss.presign('PUT', local.oss.bucket, 'anon/test-file.txt', 60)
      const getUrl = local.oss.presign('GET', local.oss.bucket, 'anon/test-file.txt', 60)
      const swap = (s: string) => s.replaceAll('new-session-id', sessionId).replaceAll('https://example.com/upload/test-file.txt', putUrl).replaceAll('https://oss-test-download-url.com', getUrl)
      const [up] = await replay('oss.upload-anonymous.ok', () => swap)
      expect((up!.body as any).data.content[0].text).toBe('Upload success')
      const [down] = await replay('oss.download-anonymous.ok', () => swap)
      expect((down!.body as any).data.content[0].text).toBe('Download success')
      expect((await api.shell(sessionId, 'cat /tmp/test_oss_download_anon.txt')).stdout).toBe('oss payload')
    })
  })
})
