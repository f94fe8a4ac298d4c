import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import S3rver from 's3rver'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { presignUrl, signHeaders } from '../../server/storage/sigV4.ts'
import { storageClient } from './storageHelpers.ts'

// OSS tools (PROTOCOL §5.4) run in the session: the tool call goes through AGB Local (here an
// injected handler, no socket), which streams the sandbox file to the S3 endpoint.
const local = createAgbLocal()
const api = storageClient((u, i) => local.fetch(u, i), 'http://agb.local', local.apiKey)
const s3dir = mkdtempSync(join(tmpdir(), 's3rver-'))
const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3dir, configureBuckets: [{ name: 'test-bucket', configs: [] }] })
let s3url: string

beforeAll(async () => {
  const { port } = await s3rver.run()
  s3url = `http://127.0.0.1:${port}`
})
afterAll(async () => {
  await s3rver.close()
  await local.close()
  rmSync(s3dir, { recursive: true, force: true })
})

/** A session with a 1 MiB random file at /home/user/data.bin; returns its id and the file's sha256. */
async function sessionWithFile(): Promise<{ sessionId: string; sha: string }> {
  const sessionId = await api.createSession()
  const out = await api.shell(sessionId, 'head -c 1048576 /dev/urandom > data.bin && sha256sum data.bin')
  return { sessionId, sha: out.stdout.split(' ')[0]! }
}

async function sandboxSha(sessionId: string, path: string): Promise<string> {
  return (await api.shell(sessionId, `sha256sum ${path}`)).stdout.split(' ')[0]!
}

describe('OSS tools against the embedded store (in process)', () => {
  it('uploads and downloads with the default endpoint and local.oss credentials', async () => {
    const { sessionId, sha } = await sessionWithFile()
    const init = await api.tool(sessionId, 'oss_env_init', { access_key_id: local.oss.accessKeyId, access_key_secret: local.oss.accessKeySecret, security_token: null })
    expect(init).toMatchObject({ isError: false, text: 'OSS environment initialized' })
    expect(await api.tool(sessionId, 'oss_upload', { bucket: local.oss.bucket, object: 'runs/1/data.bin', path: 'data.bin' })).toMatchObject({ isError: false, text: 'Upload success' })
    // The store got the bytes (read back with a presigned URL) through a SigV4-signed PUT.
    const stored = Buffer.from(await (await local.fetch(local.oss.presign('GET', local.oss.bucket, 'runs/1/data.bin'))).arrayBuffer())
    expect(createHash('sha256').update(stored).digest('hex')).toBe(sha)
    const put = local.requests.find((r) => r.method === 'PUT' && r.url.endsWith('/oss/agb-local/runs/1/data.bin'))!
    expect(put.url.startsWith('http://agb-local.internal/')).toBe(true)
    expect(put.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKLOCAL/)
    expect(put.headers['content-length']).toBe('1048576')

    expect(await api.tool(sessionId, 'oss_download', { bucket: local.oss.bucket, object: 'runs/1/data.bin', path: '/tmp/in/copy.bin' })).toMatchObject({ isError: false, text: 'Download success' })
    expect(await sandboxSha(sessionId, '/tmp/in/copy.bin')).toBe(sha)
  })

  it('uploads a directory as one object per file, under the object prefix', async () => {
    const sessionId = await api.createSession()
    await api.shell(sessionId, 'mkdir -p out/sub && echo a > out/a.txt && echo b > out/sub/b.txt')
    await api.tool(sessionId, 'oss_env_init', { access_key_id: local.oss.accessKeyId, access_key_secret: local.oss.accessKeySecret, security_token: null })
    expect((await api.tool(sessionId, 'oss_upload', { bucket: local.oss.bucket, object: 'tree/', path: 'out' })).isError).toBe(false)
    expect(await (await local.fetch(local.oss.presign('GET', local.oss.bucket, 'tree/sub/b.txt'))).text()).toBe('b\n')
  })

  it('reports the store\'s status and S3 code as tool errors', async () => {
    const sessionId = await api.createSession()
    expect(await api.tool(sessionId, 'oss_upload', { bucket: 'agb-local', object: 'x', path: 'x' })).toMatchObject({ isError: true, text: expect.stringContaining('oss_env_init') })
    await api.tool(sessionId, 'oss_env_init', { access_key_id: local.oss.accessKeyId, access_key_secret: 'wrong', security_token: null })
    await api.shell(sessionId, 'echo hi > hi.txt')
    expect((await api.tool(sessionId, 'oss_upload', { bucket: 'agb-local', object: 'x', path: 'hi.txt' })).text).toBe('Error: Upload failed: HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your key and signing method.')
    await api.tool(sessionId, 'oss_env_init', { access_key_id: local.oss.accessKeyId, access_key_secret: local.oss.accessKeySecret, security_token: null })
    expect((await api.tool(sessionId, 'oss_download', { bucket: 'agb-local', object: 'missing', path: 'm.txt' })).text).toMatch(/^Error: Download failed: HTTP 404 NoSuchKey/)
    expect((await api.tool(sessionId, 'oss_upload', { bucket: 'agb-local', object: 'x', path: '/no/such/file' })).text).toMatch(/^Error: \/no\/such\/file: no such file/)
  })

  it('uploads and downloads anonymously through presigned URLs', async () => {
    const { sessionId, sha } = await sessionWithFile()
    const put = await api.tool(sessionId, 'oss_upload_annon', { url: local.oss.presign('PUT', local.oss.bucket, 'anon/data.bin', 60), path: 'data.bin' })
    expect(put).toMatchObject({ isError: false, text: 'Upload success' })
    const get = await api.tool(sessionId, 'oss_download_annon', { url: local.oss.presign('GET', local.oss.bucket, 'anon/data.bin', 60), path: '/tmp' })
    expect(get).toMatchObject({ isError: false, text: 'Download success' })
    expect(await sandboxSha(sessionId, '/tmp/data.bin')).toBe(sha) // into a directory: the object's name
    const bad = await api.tool(sessionId, 'oss_download_annon', { url: local.oss.presign('GET', local.oss.bucket, 'anon/data.bin', 60).replace('anon/data', 'anon/other'), path: 'x' })
    expect(bad.text).toMatch(/^Error: Download failed: HTTP 403 SignatureDoesNotMatch/)
  })

  it('serves context URLs minted for the client\'s own origin in process (no socket behind http://agb.local)', async () => {
    const { sessionId, sha } = await sessionWithFile()
    const contextId = (await api.post('/sdk/GetAndLoadInternalContext', { sessionId, contextTypes: '["file_transfer"]' })).json.data[0].contextId
    const url = (await api.post('/sdk/GetContextFileUploadUrl', { contextId, filePath: '/tmp/file_transfer/up.bin' })).json.data.url as string
    expect(url.startsWith('http://agb.local/oss/')).toBe(true)
    expect(await api.tool(sessionId, 'oss_upload_annon', { url, path: 'data.bin' })).toMatchObject({ isError: false, text: 'Upload success' })
    expect(await api.sync(sessionId, contextId, '/tmp/file_transfer', 'download')).toMatchObject({ status: 'Success' })
    expect(await sandboxSha(sessionId, '/tmp/file_transfer/up.bin')).toBe(sha)
  })
})

describe('OSS tools against s3rver (an independent S3 implementation on loopback)', () => {
  const s3creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' }

  it('uploads to s3rver with SigV4 and downloads the same bytes back', async () => {
    const { sessionId, sha } = await sessionWithFile()
    const init = await api.tool(sessionId, 'oss_env_init', { access_key_id: 'S3RVER', access_key_secret: 'S3RVER', security_token: null, endpoint: s3url, region: 'us-east-1' })
    expect(init.isError).toBe(false)
    expect(await api.tool(sessionId, 'oss_upload', { bucket: 'test-bucket', object: 'dir/data file.bin', path: 'data.bin' })).toMatchObject({ isError: false, text: 'Upload success' })
    // Read it from s3rver directly, not through AGB Local.
    const url = new URL(`${s3url}/test-bucket/dir/data%20file.bin`)
    const direct = await fetch(url, { headers: signHeaders('GET', url, {}, s3creds) })
    expect(direct.status).toBe(200)
    expect(createHash('sha256').update(Buffer.from(await direct.arrayBuffer())).digest('hex')).toBe(sha)

    expect(await api.tool(sessionId, 'oss_download', { bucket: 'test-bucket', object: 'dir/data file.bin', path: 'back.bin' })).toMatchObject({ isError: false, text: 'Download success' })
    expect(await sandboxSha(sessionId, 'back.bin')).toBe(sha)
  })

  it('reports s3rver\'s errors (unknown key id, missing object) as tool errors', async () => {
    const sessionId = await api.createSession()
    await api.tool(sessionId, 'oss_env_init', { access_key_id: 'NOT-A-KEY', access_key_secret: 'x', security_token: null, endpoint: s3url })
    expect((await api.tool(sessionId, 'oss_download', { bucket: 'test-bucket', object: 'nothing', path: 'n' })).text).toMatch(/^Error: Download failed: HTTP 403 InvalidAccessKeyId/)
    await api.tool(sessionId, 'oss_env_init', { access_key_id: 'S3RVER', access_key_secret: 'S3RVER', security_token: null, endpoint: s3url })
    expect((await api.tool(sessionId, 'oss_download', { bucket: 'test-bucket', object: 'nothing', path: 'n' })).text).toMatch(/^Error: Download failed: HTTP 404 NoSuchKey/)
  })

  it('transfers anonymously with s3rver presigned URLs', async () => {
    const { sessionId, sha } = await sessionWithFile()
    const objectUrl = new URL(`${s3url}/test-bucket/anon.bin`)
    const put = await api.tool(sessionId, 'oss_upload_annon', { url: presignUrl('PUT', objectUrl, s3creds, 60), path: 'data.bin' })
    expect(put).toMatchObject({ isError: false, text: 'Upload success' })
    const get = await api.tool(sessionId, 'oss_download_annon', { url: presignUrl('GET', objectUrl, s3creds, 60), path: 'anon.bin' })
    expect(get).toMatchObject({ isError: false, text: 'Download success' })
    expect(await sandboxSha(sessionId, 'anon.bin')).toBe(sha)
  })
})
