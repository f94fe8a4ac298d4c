import { Readable } from 'node:stream'
import type { Route, RouteContext } from '../routes/Route.ts'
import type { ObjectMeta } from './objectStore.ts'
import { checkBucketName, entityTooLarge, StoreError } from './objectStore.ts'
import { UNSIGNED_PAYLOAD, verifySigV4 } from './sigV4.ts'
import { storageFor } from './storageFor.ts'
import type { Storage } from './storageFor.ts'

const OSS_PATH = /^\/oss\/([^/]+)(?:\/(.*))?$/

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`)
const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'

/** An S3 error document (`<Error><Code/><Message/>…</Error>`), as S3 and OSS send them. */
function s3Error(ctx: RouteContext, status: number, code: string, message: string, resource?: string): Response {
  const body = ctx.req.method === 'HEAD'
    ? null
    : `${XML_HEAD}<Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message>${resource ? `<Resource>${escapeXml(resource)}</Resource>` : ''}<RequestId>${ctx.requestId}</RequestId></Error>`
  return new Response(body, { status, headers: { 'content-type': 'application/xml', 'x-amz-request-id': ctx.requestId, 'x-request-id': ctx.requestId } })
}

function objectHeaders(ctx: RouteContext, meta: ObjectMeta): Record<string, string> {
  return {
    'content-type': meta.contentType,
    etag: meta.etag,
    'last-modified': new Date(meta.modified).toUTCString(),
    'accept-ranges': 'bytes',
    'x-amz-request-id': ctx.requestId,
    'x-request-id': ctx.requestId,
  }
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` → inclusive range; `null` when unsatisfiable. */
function parseRange(header: string | null, size: number): { start: number; end: number } | null | undefined {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null
  if (!m || (!m[1] && !m[2])) return undefined // absent or not a single range: whole object, as S3 does
  let start: number, end: number
  if (!m[1]) {
    start = Math.max(size - Number(m[2]), 0)
    end = size - 1
  } else {
    start = Number(m[1])
    end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1
  }
  return start > end || start >= size ? null : { start, end }
}

function bodyStream(req: Request): Readable {
  return req.body ? Readable.fromWeb(req.body as import('node:stream/web').ReadableStream) : Readable.from([])
}

async function putObject(ctx: RouteContext, s: Storage, bucket: string, key: string, payloadHash: string): Promise<Response> {
  if (ctx.req.headers.has('x-amz-copy-source')) return s3Error(ctx, 501, 'NotImplemented', 'CopyObject is not supported by AGB Local')
  const max = ctx.config.maxObjectBytes
  const declared = Number(ctx.req.headers.get('x-amz-decoded-content-length') ?? ctx.req.headers.get('content-length') ?? NaN)
  // Refused before a byte is read; a body without (or lying about) its length is cut at the cap.
  if (declared > max) throw entityTooLarge(max) // answered by handleS3 as every StoreError
  const meta = await s.objects.put(bucket, key, bodyStream(ctx.req), {
    maxBytes: max,
    contentType: ctx.req.headers.get('content-type') ?? undefined,
    ...(payloadHash !== UNSIGNED_PAYLOAD ? { sha256: payloadHash } : {}),
    ...(ctx.req.headers.has('content-md5') ? { md5: ctx.req.headers.get('content-md5')! } : {}),
  })
  return new Response(null, { status: 200, headers: { etag: meta.etag, 'x-amz-request-id': ctx.requestId, 'x-request-id': ctx.requestId } })
}

async function getObject(ctx: RouteContext, s: Storage, bucket: string, key: string): Promise<Response> {
  const meta = await s.objects.head(bucket, key)
  if (!meta) {
    if (!(await s.objects.hasBucket(bucket))) return s3Error(ctx, 404, 'NoSuchBucket', 'The specified bucket does not exist.', `/${bucket}`)
    return s3Error(ctx, 404, 'NoSuchKey', 'The specified key does not exist.', `/${bucket}/${key}`)
  }
  const range = parseRange(ctx.req.headers.get('range'), meta.size)
  if (range === null) {
    const r = s3Error(ctx, 416, 'InvalidRange', 'The requested range is not satisfiable')
    r.headers.set('content-range', `bytes */${meta.size}`)
    return r
  }
  const headers = objectHeaders(ctx, meta)
  if (ctx.req.method === 'HEAD') return new Response(null, { status: 200, headers: { ...headers, 'content-length': String(meta.size) } })
  const opened = await s.objects.read(bucket, key, meta.size ? range : undefined)
  if (!opened) return s3Error(ctx, 404, 'NoSuchKey', 'The specified key does not exist.', `/${bucket}/${key}`)
  const length = range ? range.end - range.start + 1 : opened.meta.size
  Object.assign(headers, objectHeaders(ctx, opened.meta), { 'content-length': String(length) })
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${opened.meta.size}`
  const body = Readable.toWeb(opened.stream) as unknown as ReadableStream<Uint8Array>
  return new Response(body, { status: range ? 206 : 200, headers })
}

/** ListObjects (v1) and ListObjectsV2: prefix, delimiter, max-keys, marker / continuation-token / start-after. */
async function listObjects(ctx: RouteContext, s: Storage, bucket: string): Promise<Response> {
  const q = ctx.url.searchParams
  const v2 = q.get('list-type') === '2'
  const prefix = q.get('prefix') ?? ''
  const delimiter = q.get('delimiter') ?? ''
  const maxKeys = Math.min(Math.max(Number(q.get('max-keys') ?? 1000) || 0, 0), 1000)
  const token = q.get('continuation-token')
  const after = v2 ? (token ? Buffer.from(token, 'base64url').toString() : (q.get('start-after') ?? '')) : (q.get('marker') ?? '')
  const contents: ObjectMeta[] = []
  const prefixes: string[] = []
  let last = ''
  let truncated = false
  for (const meta of await s.objects.list(bucket, prefix)) {
    if (meta.key <= after || (delimiter && after.endsWith(delimiter) && meta.key.startsWith(after))) continue
    const cut = delimiter ? meta.key.indexOf(delimiter, prefix.length) : -1
    const entry = cut >= 0 ? meta.key.slice(0, cut + delimiter.length) : meta.key
    if (entry === prefixes.at(-1)) continue
    if (contents.length + prefixes.length >= maxKeys) {
      truncated = true
      break
    }
    if (cut >= 0) prefixes.push(entry)
    else contents.push(meta)
    last = entry
  }
  const tag = (name: string, value: string | number | boolean) => `<${name}>${escapeXml(String(value))}</${name}>`
  const xml = [
    `${XML_HEAD}<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
    tag('Name', bucket), tag('Prefix', prefix), tag('MaxKeys', maxKeys), tag('IsTruncated', truncated),
    delimiter ? tag('Delimiter', delimiter) : '',
    v2 ? tag('KeyCount', contents.length + prefixes.length) : tag('Marker', after),
    v2 && token ? tag('ContinuationToken', token) : '',
    truncated ? (v2 ? tag('NextContinuationToken', Buffer.from(last).toString('base64url')) : tag('NextMarker', last)) : '',
    ...contents.map((m) => `<Contents>${tag('Key', m.key)}${tag('LastModified', new Date(m.modified).toISOString())}${tag('ETag', m.etag)}${tag('Size', m.size)}${tag('StorageClass', 'STANDARD')}</Contents>`),
    ...prefixes.map((p) => `<CommonPrefixes>${tag('Prefix', p)}</CommonPrefixes>`),
    '</ListBucketResult>',
  ].join('')
  return new Response(xml, { status: 200, headers: { 'content-type': 'application/xml', 'x-amz-request-id': ctx.requestId } })
}

async function bucketOp(ctx: RouteContext, s: Storage, bucket: string): Promise<Response> {
  const method = ctx.req.method
  if (method === 'PUT') {
    await ctx.req.body?.cancel().catch(() => {}) // CreateBucketConfiguration: regions mean nothing here
    await s.objects.createBucket(bucket)
    return new Response(null, { status: 200, headers: { location: `/${bucket}`, 'x-amz-request-id': ctx.requestId } })
  }
  if (!(await s.objects.hasBucket(bucket))) return s3Error(ctx, 404, 'NoSuchBucket', 'The specified bucket does not exist.', `/${bucket}`)
  if (method === 'HEAD') return new Response(null, { status: 200, headers: { 'x-amz-request-id': ctx.requestId } })
  if (method === 'DELETE') {
    await s.objects.deleteBucket(bucket)
    return new Response(null, { status: 204, headers: { 'x-amz-request-id': ctx.requestId } })
  }
  return listObjects(ctx, s, bucket)
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value)
  } catch {
    return undefined
  }
}

/**
 * The embedded store's S3 API under `/oss/<bucket>[/<key>]` (path-style): PUT/GET/HEAD/DELETE
 * object (GET with a single `Range`), CreateBucket/HeadBucket/DeleteBucket, ListObjects(V2).
 * Every request must carry an AWS SigV4 signature by the store's own key, in the
 * `Authorization` header or as a presigned query (expiry enforced); errors are S3 XML documents.
 */
async function handleS3(ctx: RouteContext): Promise<Response> {
  const s = storageFor(ctx.config)
  const [, rawBucket = '', rawKey = ''] = OSS_PATH.exec(ctx.url.pathname) ?? []
  const bucket = safeDecode(rawBucket)
  const key = safeDecode(rawKey)
  if (bucket === undefined || key === undefined) return s3Error(ctx, 400, 'InvalidURI', 'Couldn\'t parse the specified URI.')
  const verdict = verifySigV4({ method: ctx.req.method, url: ctx.url, headers: ctx.req.headers }, (id) =>
    id === s.credentials.accessKeyId ? s.credentials.secretAccessKey : undefined)
  if (!verdict.ok) return s3Error(ctx, verdict.status, verdict.code, verdict.message, ctx.url.pathname)
  s.selfOrigins.add(ctx.url.origin)
  try {
    if (!key) {
      checkBucketName(bucket)
      return await bucketOp(ctx, s, bucket)
    }
    switch (ctx.req.method) {
      case 'PUT':
        return await putObject(ctx, s, bucket, key, verdict.payloadHash)
      case 'DELETE':
        await s.objects.delete(bucket, key)
        return new Response(null, { status: 204, headers: { 'x-amz-request-id': ctx.requestId } })
      default:
        return await getObject(ctx, s, bucket, key)
    }
  } catch (e) {
    if (e instanceof StoreError) return s3Error(ctx, e.status, e.code, e.message, ctx.url.pathname)
    if ((e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' || ctx.req.signal.aborted) {
      return s3Error(ctx, 400, 'IncompleteBody', 'The request body ended before its end.')
    }
    throw e
  }
}

/** The embedded store's S3 routes: no API key, SigV4 instead (header or presigned URL). */
export const s3Routes: readonly Route[] = (['GET', 'HEAD', 'PUT', 'DELETE'] as const).map((method) => ({
  method,
  path: OSS_PATH,
  auth: 'none',
  rawBody: true,
  run: handleS3,
}))
