import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/** What the store keeps about one object (also its `<hash>.json` sidecar on disk). */
export interface ObjectMeta {
  key: string
  size: number
  /** Quoted hex MD5 of the bytes, as S3 reports it for single-part uploads. */
  etag: string
  contentType: string
  /** Epoch ms. */
  created: number
  modified: number
}

/** A failure the S3 layer answers with its code and status. */
export class StoreError extends Error {
  override readonly name = 'StoreError'
  constructor(readonly code: string, message: string, readonly status: number) {
    super(message)
  }
}

/** The 413 `EntityTooLarge` of an upload over `maxBytes` (the `maxObjectBytes` option). */
export function entityTooLarge(maxBytes: number): StoreError {
  return new StoreError('EntityTooLarge', `Your proposed upload exceeds the maximum allowed object size of ${maxBytes} bytes (maxObjectBytes).`, 413)
}

/** Options of {@link ObjectStore.put}. */
export interface PutOptions {
  contentType?: string
  /** Hex SHA-256 the body must have (a signed `x-amz-content-sha256`). */
  sha256?: string
  /** Base64 MD5 the body must have (`Content-MD5`). */
  md5?: string
  /** The upload fails with StoreError `EntityTooLarge` (413), storing nothing, past this many bytes. */
  maxBytes?: number
}

/** Buckets as directories on disk; objects streamed in and out, never held in memory. */
export interface ObjectStore {
  /** The store's root directory (`<dataDir>/storage/buckets`). */
  readonly dir: string
  hasBucket(bucket: string): Promise<boolean>
  /** Creates the bucket (no-op when it exists). @throws StoreError InvalidBucketName */
  createBucket(bucket: string): Promise<void>
  /** @throws StoreError NoSuchBucket, BucketNotEmpty */
  deleteBucket(bucket: string): Promise<void>
  head(bucket: string, key: string): Promise<ObjectMeta | undefined>
  /** Streams `body` into the object (atomically replacing it). @throws StoreError */
  put(bucket: string, key: string, body: Readable, options?: PutOptions): Promise<ObjectMeta>
  /** The object's bytes (`start`/`end` inclusive), or `undefined` when it does not exist. */
  read(bucket: string, key: string, range?: { start: number; end: number }): Promise<{ meta: ObjectMeta; stream: Readable } | undefined>
  /** @returns whether an object was removed. */
  delete(bucket: string, key: string): Promise<boolean>
  /** Objects whose key starts with `prefix`, sorted by key. */
  list(bucket: string, prefix?: string): Promise<ObjectMeta[]>
  /** Removes every object whose key starts with `prefix`. @returns how many. */
  deletePrefix(bucket: string, prefix: string): Promise<number>
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const MAX_KEY_BYTES = 1024

/** @throws StoreError InvalidBucketName */
export function checkBucketName(bucket: string): void {
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) throw new StoreError('InvalidBucketName', 'The specified bucket is not valid.', 400)
}

function checkKey(key: string): void {
  if (!key) throw new StoreError('InvalidArgument', 'The object key must not be empty.', 400)
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new StoreError('KeyTooLongError', 'Your key is too long.', 400)
}

const fileName = (key: string) => createHash('sha256').update(key).digest('hex')
const noSuchBucket = () => new StoreError('NoSuchBucket', 'The specified bucket does not exist.', 404)

/**
 * Creates the embedded object store under `root`: `root/<bucket>/` per bucket, each object as
 * `<sha256(key)>` (bytes) plus `<sha256(key)>.json` (metadata, including the key). Uploads go
 * to `root/../tmp` first and are renamed into place, so readers never see half an object.
 * Keys are indexed in memory per bucket on first use.
 */
export function createObjectStore(root: string): ObjectStore {
  const tmpDir = join(root, '..', 'tmp')
  mkdirSync(tmpDir, { recursive: true })
  mkdirSync(root, { recursive: true })
  const indexes = new Map<string, Promise<Map<string, ObjectMeta>>>()
  // Writes to one key are serialised so bytes and sidecar always agree.
  const locks = new Map<string, Promise<unknown>>()

  function locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = locks.get(id) ?? Promise.resolve()
    const next = previous.catch(() => {}).then(fn)
    locks.set(id, next)
    void next.finally(() => {
      if (locks.get(id) === next) locks.delete(id)
    }).catch(() => {})
    return next
  }

  async function loadIndex(bucket: string): Promise<Map<string, ObjectMeta>> {
    const index = new Map<string, ObjectMeta>()
    const dir = join(root, bucket)
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.json')) continue
      try {
        const meta = JSON.parse(await readFile(join(dir, name), 'utf8')) as ObjectMeta
        if (typeof meta.key === 'string') index.set(meta.key, meta)
      } catch {} // a sidecar being replaced right now: its rename lands in the index anyway
    }
    return index
  }

  /** The bucket's index; `undefined` when the bucket does not exist. */
  async function index(bucket: string): Promise<Map<string, ObjectMeta> | undefined> {
    if (!BUCKET_NAME.test(bucket)) return undefined
    let p = indexes.get(bucket)
    if (!p) {
      if (!(await store.hasBucket(bucket))) return undefined
      p = indexes.get(bucket) ?? loadIndex(bucket)
      indexes.set(bucket, p)
      p.catch(() => indexes.delete(bucket))
    }
    return p
  }

  async function mustIndex(bucket: string): Promise<Map<string, ObjectMeta>> {
    const idx = await index(bucket)
    if (!idx) throw noSuchBucket()
    return idx
  }

  const store: ObjectStore = {
    dir: root,
    async hasBucket(bucket) {
      if (!BUCKET_NAME.test(bucket)) return false
      return stat(join(root, bucket)).then((s) => s.isDirectory(), () => false)
    },
    async createBucket(bucket) {
      checkBucketName(bucket)
      await mkdir(join(root, bucket), { recursive: true })
    },
    async deleteBucket(bucket) {
      const idx = await mustIndex(bucket)
      if (idx.size) throw new StoreError('BucketNotEmpty', 'The bucket you tried to delete is not empty.', 409)
      indexes.delete(bucket)
      await rmdir(join(root, bucket)).catch(() => rm(join(root, bucket), { recursive: true, force: true }))
    },
    async head(bucket, key) {
      return (await index(bucket))?.get(key)
    },
    async put(bucket, key, body, options = {}) {
      checkKey(key)
      const idx = await mustIndex(bucket)
      const tmp = join(tmpDir, `${randomBytes(12).toString('hex')}.part`)
      const md5 = createHash('md5')
      const sha = options.sha256 ? createHash('sha256') : undefined
      let size = 0
      try {
        await pipeline(
          body,
          async function* (source: AsyncIterable<Buffer>) {
            for await (const chunk of source) {
              md5.update(chunk)
              sha?.update(chunk)
              size += chunk.length
              if (options.maxBytes !== undefined && size > options.maxBytes) {
                throw entityTooLarge(options.maxBytes)
              }
              yield chunk
            }
          },
          createWriteStream(tmp, { flags: 'wx' }),
        )
        const digest = md5.digest()
        if (options.md5 !== undefined && digest.toString('base64') !== options.md5) {
          throw new StoreError('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400)
        }
        if (sha && sha.digest('hex') !== options.sha256) {
          throw new StoreError('XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.', 400)
        }
        return await locked(`${bucket}/${key}`, async () => {
          const now = Date.now()
          const previous = idx.get(key)
          const meta: ObjectMeta = {
            key, size, etag: `"${digest.toString('hex')}"`, contentType: options.contentType || 'application/octet-stream',
            created: previous?.created ?? now, modified: now,
          }
          const base = join(root, bucket, fileName(key))
          await rename(tmp, base)
          await writeFile(`${tmp}.json`, JSON.stringify(meta))
          await rename(`${tmp}.json`, `${base}.json`)
          idx.set(key, meta)
          return meta
        })
      } catch (e) {
        await rm(tmp, { force: true })
        await rm(`${tmp}.json`, { force: true })
        throw e
      }
    },
    async read(bucket, key, range) {
      const meta = (await mustIndex(bucket)).get(key)
      if (!meta) return undefined
      const stream = createReadStream(join(root, bucket, fileName(key)), range ? { start: range.start, end: range.end } : {})
      // Surface ENOENT (deleted meanwhile) before the caller commits to a 200.
      const opened = await new Promise<boolean>((resolve) => {
        stream.once('open', () => resolve(true))
        stream.once('error', () => resolve(false))
      })
      return opened ? { meta, stream } : undefined
    },
    async delete(bucket, key) {
      const idx = await mustIndex(bucket)
      return locked(`${bucket}/${key}`, async () => {
        const existed = idx.delete(key)
        const base = join(root, bucket, fileName(key))
        await rm(`${base}.json`, { force: true })
        await rm(base, { force: true })
        return existed
      })
    },
    async list(bucket, prefix = '') {
      const idx = await mustIndex(bucket)
      return [...idx.values()].filter((m) => m.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    },
    async deletePrefix(bucket, prefix) {
      const keys = (await store.list(bucket, prefix)).map((m) => m.key)
      for (const key of keys) await store.delete(bucket, key)
      return keys.length
    },
  }
  return store
}
