import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { request } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal, serve } from '../../server/index.ts'
import type { Server } from '../../server/index.ts'
import { presignUrl } from '../../server/storage/sigV4.ts'
import { storageClient } from './storageHelpers.ts'

// Presigned file transfer (PROTOCOL §9.2) over a real loopback server, as the SDKs do it.
const dataDir = mkdtempSync(join(tmpdir(), 'agb-storage-test-'))
const local = createAgbLocal({ dataDir })
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
let server: Server
let api: ReturnType<typeof storageClient>
let sessionId: string
let contextId: string

beforeAll(async () => {
  server = await serve(local)
  api = storageClient(fetch, server.url, local.apiKey)
  sessionId = await api.createSession()
  const ctx = await api.post('/sdk/GetAndLoadInternalContext', { sessionId, contextTypes: '["file_transfer"]' })
  expect(ctx.json.data).toEqual([{ contextId: expect.stringMatching(/^ctx-/), contextType: 'file_transfer', contextPath: '/tmp/file_transfer' }])
  contextId = ctx.json.data[0].contextId
})
afterAll(async () => {
  await server?.close()
  await local.close()
  rmSync(dataDir, { recursive: true, force: true })
})

async function presigned(kind: 'Upload' | 'Download', filePath: string): Promise<string> {
  const res = await api.post(`/sdk/GetContextFile${kind}Url`, { contextId, filePath })
  expect(res.json.data).toEqual({ url: expect.stringContaining(`${server.url}/oss/`), expireTime: 3600 })
  return res.json.data.url
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe('presigned file transfer over loopback', () => {
  it('round-trips a 10 MB binary file byte for byte: PUT → sync down → cat → modify → sync up → GET', async () => {
    const original = randomBytes(10 * 1024 * 1024)
    const put = await fetch(await presigned('Upload', '/tmp/file_transfer/big.bin'), { method: 'PUT', body: original })
    expect(put.status).toBe(200)
    expect(put.headers.get('etag')).toBe(`"${createHash('md5').update(original).digest('hex')}"`)

    expect(await api.sync(sessionId, contextId, '/tmp/file_transfer', 'download')).toMatchObject({ status: 'Success', taskType: 'download', errorMessage: '' })
    const seen = await api.shell(sessionId, 'cat /tmp/file_transfer/big.bin | sha256sum && printf MODIFIED >> /tmp/file_transfer/big.bin')
    expect(seen.stdout.split(' ')[0]).toBe(sha256(original))

    expect(await api.sync(sessionId, contextId, '/tmp/file_transfer', 'upload')).toMatchObject({ status: 'Success', taskType: 'upload' })
    const get = await fetch(await presigned('Download', '/tmp/file_transfer/big.bin'))
    expect(get.status).toBe(200)
    const back = Buffer.from(await get.arrayBuffer())
    expect(back.equals(Buffer.concat([original, Buffer.from('MODIFIED')]))).toBe(true)

    // Presigned URLs got no API key; the store saw only the signature in the query.
    const transfers = local.requests.filter((r) => new URL(r.url).pathname.startsWith('/oss/'))
    expect(transfers.map((r) => r.method)).toEqual(['PUT', 'GET'])
    for (const r of transfers) expect(r.headers.authorization).toBeUndefined()
  })

  it('rejects a tampered signature and an expired URL with 403 and keeps serving', async () => {
    await fetch(await presigned('Upload', '/tmp/file_transfer/small.txt'), { method: 'PUT', body: 'small' })
    const url = await presigned('Download', '/tmp/file_transfer/small.txt')
    const tampered = url.replace(/X-Amz-Signature=([0-9a-f])/, (_m, c: string) => `X-Amz-Signature=${c === 'a' ? 'b' : 'a'}`)
    const bad = await fetch(tampered)
    expect(bad.status).toBe(403)
    expect(await bad.text()).toContain('<Code>SignatureDoesNotMatch</Code>')

    const creds = { accessKeyId: local.oss.accessKeyId, secretAccessKey: local.oss.accessKeySecret, region: local.oss.region }
    const expired = presignUrl('GET', new URL(url.split('?')[0]!), creds, 60, new Date(Date.now() - 2 * 3600_000))
    const old = await fetch(expired)
    expect(old.status).toBe(403)
    expect(await old.text()).toMatch(/<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/)

    const good = await fetch(url)
    expect(good.status).toBe(200)
    expect(await good.text()).toBe('small')
  })

  // node:http as the client: undici's fetch itself keeps a streamed request body reachable
  // until it is collected much later, which would hide what the server holds.
  it('streams a 100 MB upload to disk while it arrives and back out, never holding it in memory', async () => {
    const chunk = randomBytes(1024 * 1024)
    const total = 100
    const md5 = createHash('md5')
    for (let i = 0; i < total; i++) md5.update(chunk)
    // Retained memory only: garbage chunks are collected before each sample.
    // (V8 frees buffer memory concurrently after a collection: collect twice, a turn apart.)
    const retained = async () => {
      gc()
      await new Promise((r) => setTimeout(r, 1))
      gc()
      return process.memoryUsage().arrayBuffers
    }
    const base = await retained()
    let peak = 0
    const tmp = join(dataDir, 'storage', 'tmp')
    const partBytes = () => readdirSync(tmp).filter((n) => n.endsWith('.part')).reduce((sum, n) => sum + statSync(join(tmp, n)).size, 0)
    let onDiskAtHalf = 0

    const put = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(local.oss.presign('PUT', local.oss.bucket, 'big/100mb.bin', 60, server.url), { method: 'PUT', headers: { 'content-length': String(total * chunk.length) } }, resolve)
      req.once('error', reject)
      void (async () => {
        for (let sent = 0; sent < total; sent++) {
          if (sent === total / 2) {
            // The server has written what it received to disk before the client sends the rest.
            for (let i = 0; i < 300 && partBytes() < 40 * chunk.length; i++) await new Promise((r) => setTimeout(r, 10))
            onDiskAtHalf = partBytes()
          }
          if (sent % 10 === 0) peak = Math.max(peak, (await retained()) - base)
          if (!req.write(Buffer.from(chunk))) await once(req, 'drain')
        }
        req.end()
      })().catch(reject)
    })
    put.resume()
    expect(put.statusCode).toBe(200)
    expect(put.headers.etag).toBe(`"${md5.digest('hex')}"`)
    expect(onDiskAtHalf).toBeGreaterThanOrEqual(40 * chunk.length)

    const get = await new Promise<IncomingMessage>((resolve, reject) => request(local.oss.presign('GET', local.oss.bucket, 'big/100mb.bin', 60, server.url), resolve).once('error', reject).end())
    expect(get.statusCode).toBe(200)
    let received = 0
    let parts = 0
    for await (const part of get as AsyncIterable<Buffer>) {
      received += part.length
      if (++parts % 200 === 0) peak = Math.max(peak, (await retained()) - base)
    }
    expect(received).toBe(total * chunk.length)
    expect(peak).toBeLessThan(16 * 1024 * 1024)
  })
})
