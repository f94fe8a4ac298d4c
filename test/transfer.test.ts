import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  downloadFile,
  downloadOss,
  downloadOssAnonymous,
  exec,
  isAgbError,
  ossEnvInit,
  readFile,
  uploadFile,
  uploadOss,
  uploadOssAnonymous,
  writeFile,
  type Session,
  type TransferProgress,
} from '../src/index.ts'
import { closeLocalSession, IMAGE, openLocalSession, randomBytes, TRANSPORTS, type LocalHarness } from './helpers/local.ts'

const random = randomBytes
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b))

describe.each(TRANSPORTS)('presigned transfer over %s', (transport) => {
  let h: LocalHarness
  let session: Session
  beforeAll(async () => ({ h, session } = await openLocalSession(transport)))
  afterAll(() => closeLocalSession(h, session))

  it('uploads a string into the transfer directory and the sandbox sees it', async () => {
    const result = await uploadFile(h.client, session, 'notes.txt', 'hello transfer', { pollInterval: 50 })
    expect(result.path).toBe('/tmp/file_transfer/notes.txt')
    expect(result.bytesSent).toBe(14)
    expect((await exec(h.client, session, 'cat /tmp/file_transfer/notes.txt')).stdout).toBe('hello transfer')
  })

  it('uploads a 2 MB stream to a path outside the transfer directory, with progress, byte for byte', async () => {
    const bytes = random(2_000_000)
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 100_000) controller.enqueue(bytes.slice(i, i + 100_000))
        controller.close()
      },
    })
    const progress: TransferProgress[] = []
    const result = await uploadFile(h.client, session, '/home/user/data/blob.bin', stream, { pollInterval: 50, onProgress: (p) => progress.push(p) })
    expect(result).toMatchObject({ path: '/home/user/data/blob.bin', bytesSent: bytes.length })
    expect(progress.length).toBeGreaterThan(5)
    expect(progress.at(-1)!.loaded).toBe(bytes.length)
    expect((await exec(h.client, session, 'sha256sum /home/user/data/blob.bin')).stdout.split(' ')[0]).toBe(
      Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex'),
    )
  })

  it('downloads bytes and streams, from inside and outside the transfer directory', async () => {
    const bytes = random(300_000)
    await uploadFile(h.client, session, '/home/user/out.bin', new Blob([bytes], { type: 'application/x-ignored' }), { pollInterval: 50 })
    expect(same(await downloadFile(h.client, session, '/home/user/out.bin', { pollInterval: 50 }), bytes)).toBe(true)
    const stream = await downloadFile(h.client, session, '/home/user/out.bin', { format: 'stream', pollInterval: 50 })
    const chunks: Uint8Array[] = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(same(new Uint8Array(Buffer.concat(chunks)), bytes)).toBe(true)
    // The user's file stays where it was.
    expect((await exec(h.client, session, 'test -f /home/user/out.bin && echo yes')).stdout.trim()).toBe('yes')
  })

  it('never sends the API key to a presigned URL', async () => {
    await uploadFile(h.client, session, 'key-check.txt', 'x', { pollInterval: 50 })
    await downloadFile(h.client, session, '/tmp/file_transfer/key-check.txt', { pollInterval: 50 })
    const presigned = h.local.requests.filter((r) => (r.method === 'PUT' || r.method === 'GET') && r.url.includes('X-Amz-Signature'))
    expect(presigned.length).toBeGreaterThanOrEqual(2)
    for (const r of presigned) {
      expect(r.headers.authorization).toBeUndefined()
      expect(JSON.stringify(r)).not.toContain(h.local.apiKey)
    }
  })

  it('a missing file is a tool_error', async () => {
    const error = await downloadFile(h.client, session, '/home/user/nope.bin', { pollInterval: 50 }).catch((e: unknown) => e)
    expect(isAgbError(error, 'tool_error')).toBe(true)
  })
})

describe.each(TRANSPORTS)('OSS tools over %s', (transport) => {
  let h: LocalHarness
  let session: Session
  beforeAll(async () => ({ h, session } = await openLocalSession(transport)))
  afterAll(() => closeLocalSession(h, session))

  it('uploads a sandbox file to the embedded store and downloads it into another path', async () => {
    const oss = h.local.oss
    expect(await ossEnvInit(h.client, session, { accessKeyId: oss.accessKeyId, accessKeySecret: oss.accessKeySecret, endpoint: oss.endpoint(h.url) })).toMatch(/initialized/i)
    await writeFile(h.client, session, '/home/user/report.csv', 'a,b\n1,2\n')
    expect(await uploadOss(h.client, session, { bucket: oss.bucket, object: 'runs/1/report.csv', path: '/home/user/report.csv' })).toMatch(/success/i)
    expect(await downloadOss(h.client, session, { bucket: oss.bucket, object: 'runs/1/report.csv', path: '/tmp/copy.csv' })).toMatch(/success/i)
    expect(await readFile(h.client, session, '/tmp/copy.csv')).toBe('a,b\n1,2\n')
  })

  it('moves files through presigned URLs anonymously', async () => {
    const oss = h.local.oss
    await writeFile(h.client, session, '/home/user/anon.txt', 'anonymous')
    await uploadOssAnonymous(h.client, session, oss.presign('PUT', oss.bucket, 'anon.txt', 600, h.url), '/home/user/anon.txt')
    await downloadOssAnonymous(h.client, session, oss.presign('GET', oss.bucket, 'anon.txt', 600, h.url), '/tmp/anon-copy.txt')
    expect(await readFile(h.client, session, '/tmp/anon-copy.txt')).toBe('anonymous')
  })

  it('wrong credentials are a tool_error naming the store error', async () => {
    const oss = h.local.oss
    await ossEnvInit(h.client, session, { accessKeyId: oss.accessKeyId, accessKeySecret: 'wrong-secret', endpoint: oss.endpoint(h.url) })
    await writeFile(h.client, session, '/home/user/x.txt', 'x')
    const error = await uploadOss(h.client, session, { bucket: oss.bucket, object: 'x.txt', path: '/home/user/x.txt' }).catch((e: unknown) => e)
    expect(isAgbError(error, 'tool_error')).toBe(true)
    expect((error as Error).message).toMatch(/403|Signature/)
  })
})
