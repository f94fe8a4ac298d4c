import { createHash } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { signHeaders } from '../../server/storage/sigV4.ts'

// The embedded object store's S3 API, through the injected handler (no socket).
const local = createAgbLocal()
afterAll(() => local.close())
const creds = { accessKeyId: local.oss.accessKeyId, secretAccessKey: local.oss.accessKeySecret, region: 'eu-central-1' }

async function s3(method: string, path: string, body?: string, headers: Record<string, string> = {}, payloadHash?: string) {
  const url = new URL(`${local.oss.endpoint()}${path}`)
  const signed = signHeaders(method, url, { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) }, creds, payloadHash)
  const res = await local.fetch(url.href, { method, headers: signed, ...(body !== undefined ? { body } : {}) })
  return { status: res.status, headers: res.headers, text: await res.text() }
}

const code = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1]

describe('embedded object store (S3 API)', () => {
  it('stores and serves an object: ETag is the MD5, content type and bytes come back', async () => {
    const put = await s3('PUT', '/agb-local/docs/hello world.txt', 'hello store', { 'content-type': 'text/plain' })
    expect(put.status).toBe(200)
    expect(put.headers.get('etag')).toBe(`"${createHash('md5').update('hello store').digest('hex')}"`)
    const get = await s3('GET', '/agb-local/docs/hello world.txt')
    expect(get).toMatchObject({ status: 200, text: 'hello store' })
    expect(get.headers.get('content-type')).toBe('text/plain')
    const head = await s3('HEAD', '/agb-local/docs/hello world.txt')
    expect(head.headers.get('content-length')).toBe('11')
  })

  it('answers a Range GET with 206 and Content-Range', async () => {
    await s3('PUT', '/agb-local/range.bin', '0123456789')
    const part = await s3('GET', '/agb-local/range.bin', undefined, { range: 'bytes=2-5' })
    expect(part).toMatchObject({ status: 206, text: '2345' })
    expect(part.headers.get('content-range')).toBe('bytes 2-5/10')
    expect((await s3('GET', '/agb-local/range.bin', undefined, { range: 'bytes=-3' })).text).toBe('789')
    expect((await s3('GET', '/agb-local/range.bin', undefined, { range: 'bytes=20-' })).status).toBe(416)
  })

  it('deletes objects and reports NoSuchKey / NoSuchBucket as S3 XML errors', async () => {
    await s3('PUT', '/agb-local/gone.txt', 'x')
    expect((await s3('DELETE', '/agb-local/gone.txt')).status).toBe(204)
    const missing = await s3('GET', '/agb-local/gone.txt')
    expect(missing.status).toBe(404)
    expect(code(missing.text)).toBe('NoSuchKey')
    expect(code((await s3('PUT', '/no-such-bucket/k', 'x')).text)).toBe('NoSuchBucket')
  })

  it('creates buckets and lists them with prefixes, delimiters and continuation tokens', async () => {
    expect((await s3('PUT', '/listing')).status).toBe(200)
    for (const k of ['a/1', 'a/2', 'b/1', 'c']) await s3('PUT', `/listing/${k}`, k)
    const top = await s3('GET', '/listing?list-type=2&delimiter=%2F')
    expect([...top.text.matchAll(/<Prefix>([^<]+)<\/Prefix>/g)].map((m) => m[1])).toEqual(['a/', 'b/'])
    expect([...top.text.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1])).toEqual(['c'])
    const page1 = await s3('GET', '/listing?list-type=2&max-keys=3')
    expect(page1.text).toContain('<IsTruncated>true</IsTruncated>')
    const token = /<NextContinuationToken>([^<]+)</.exec(page1.text)![1]!
    const page2 = await s3('GET', `/listing?list-type=2&max-keys=3&continuation-token=${token}`)
    expect([...page2.text.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1])).toEqual(['c'])
    expect((await s3('DELETE', '/listing')).status).toBe(409)
  })

  it('refuses unsigned requests and wrong secrets with 403, and keeps no object for a bad payload hash', async () => {
    const unsigned = await local.fetch(`${local.oss.endpoint()}/agb-local/x`, { method: 'PUT', body: 'x' })
    expect(unsigned.status).toBe(403)
    expect(code(await unsigned.text())).toBe('AccessDenied')
    const url = new URL(`${local.oss.endpoint()}/agb-local/x`)
    const wrong = await local.fetch(url.href, { headers: signHeaders('GET', url, {}, { ...creds, secretAccessKey: 'nope' }) })
    expect(code(await wrong.text())).toBe('SignatureDoesNotMatch')
    const sha = createHash('sha256').update('something else').digest('hex')
    expect(code((await s3('PUT', '/agb-local/hash.txt', 'payload', {}, sha)).text)).toBe('XAmzContentSHA256Mismatch')
    expect((await s3('HEAD', '/agb-local/hash.txt')).status).toBe(404)
    const good = createHash('sha256').update('payload').digest('hex')
    expect((await s3('PUT', '/agb-local/hash.txt', 'payload', {}, good)).status).toBe(200)
  })

  it('serves presigned URLs from local.oss.presign without credentials', async () => {
    const put = await local.fetch(local.oss.presign('PUT', 'agb-local', 'pre/signed.bin', 60), { method: 'PUT', body: new Uint8Array([1, 2, 3]) })
    expect(put.status).toBe(200)
    const get = await local.fetch(local.oss.presign('GET', 'agb-local', 'pre/signed.bin', 60))
    expect(new Uint8Array(await get.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]))
    expect((await local.fetch(local.oss.presign('GET', 'agb-local', 'pre/signed.bin', 60).replace('pre/signed', 'pre/other'))).status).toBe(403)
  })
})
