import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { AgbError } from '../errors.ts'
import { invokeTool, toolText } from '../_internal/invokeTool.ts'
import { presignedFetch } from '../_internal/presigned.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { openDeadline } from '../_internal/deadline.ts'
import { deleteStaged, parentDir, presignedUrl, stagePath, syncContext, transferContext } from '../_internal/transfer.ts'
import { nonEmpty, optionalMs, requestOptionEntries, validate } from '../_internal/validate.ts'
import { clientOf } from '../_internal/check.ts'

/** Progress of a transfer: bytes so far and the total when known. */
export interface TransferProgress {
  loaded: number
  total?: number
}

const UploadFileOptionsSchema = v.object({
  contentType: v.optional(v.string('contentType must be a string')),
  wait: v.optional(v.boolean('wait must be a boolean'), true),
  pollInterval: optionalMs('pollInterval'),
  onProgress: v.optional(v.custom<(p: TransferProgress) => void>((f) => typeof f === 'function', 'onProgress must be a function')),
  ...requestOptionEntries,
})

/** Options for {@link uploadFile}. */
export interface UploadFileOptions extends RequestOptions {
  /** `content-type` of the PUT. Default: none (a presigned URL may be signed without one). */
  contentType?: string
  /** Wait until the file is in the sandbox. Default `true`. */
  wait?: boolean
  /** Milliseconds between sync-status polls. Default 1500. */
  pollInterval?: number
  /** Called as bytes are sent (per chunk for streams; at start and end for other bodies). */
  onProgress?: (progress: TransferProgress) => void
  /** Milliseconds the whole upload may take. Default 300 000. */
  timeout?: number
}

/** What {@link uploadFile} did. */
export interface UploadFileResult {
  /** The sandbox path of the file. */
  path: string
  /** Bytes sent. */
  bytesSent: number
  /** ETag of the stored object, when the store returned one. */
  etag?: string
  /** Request ids of the upload-URL and sync calls. */
  requestIdUploadUrl: string
  requestIdSync: string
}

function toBody(body: unknown, onProgress?: (p: TransferProgress) => void): { body: BodyInit; size?: number; counted?: () => number } {
  if (typeof body === 'string') body = new TextEncoder().encode(body)
  if (body instanceof ArrayBuffer) body = new Uint8Array(body)
  if (body instanceof Uint8Array) return { body: body as BodyInit, size: body.byteLength }
  // A Blob's own type would become a content-type header and break the URL's signature.
  if (body instanceof Blob) return { body: body.type ? body.slice(0, body.size) : body, size: body.size }
  if (body instanceof ReadableStream) {
    let loaded = 0
    const counted = (body as ReadableStream<Uint8Array>).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          loaded += chunk.byteLength
          onProgress?.({ loaded })
          controller.enqueue(chunk)
        },
      }),
    )
    return { body: counted, counted: () => loaded }
  }
  throw new AgbError('invalid_input', 'Invalid body: expected a string, Uint8Array, ArrayBuffer, Blob or ReadableStream')
}

/**
 * Uploads data into the sandbox through the session's file-transfer context: a presigned URL, a bare `PUT` (never with the API key), then a sync into the
 * sandbox. Streams are sent as they come, never buffered whole.
 *
 * A path outside the transfer directory (`/tmp/file_transfer` on the cloud) is staged there
 * and moved into place after the sync; a relative path lands in the transfer directory.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param remotePath - Sandbox path of the file to create.
 * @param body - A string (UTF-8), `Uint8Array`, `ArrayBuffer`, `Blob` or `ReadableStream<Uint8Array>`.
 * @param options - `contentType`, `wait` (default true), `pollInterval`, `onProgress`, `timeout` (default 300 s), `signal`.
 * @returns The sandbox path, bytes sent, ETag and request ids.
 * @throws AgbError `invalid_input` for an unsupported body; `unauthorized` when the URL is refused; `timeout`, ...
 * @example
 * ```ts
 * await uploadFile(client, session, '/home/user/data.bin', await (await fetch(dataUrl)).blob())
 * ```
 */
export async function uploadFile(client: Client, session: SessionRef, remotePath: string, body: string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>, options?: UploadFileOptions): Promise<UploadFileResult> {
  clientOf(client)
  const id = sessionId(session)
  const path = validate(nonEmpty('remotePath'), remotePath, 'remotePath')
  const o = validate(UploadFileOptionsSchema, options ?? {}, 'options')
  const payload = toBody(body, o.onProgress)
  const call = openDeadline('uploadFile', o, 300_000)
  const { contextId, contextPath } = await transferContext(client, id, call)
  const { staged, inside } = stagePath(path, contextPath)
  if (!inside && !o.wait) throw new AgbError('invalid_input', `Invalid options.wait: a file outside ${contextPath} must be waited for to be moved into place`)
  const upload = await presignedUrl(client, 'Upload', contextId, staged, call)
  if (payload.size !== undefined) o.onProgress?.({ loaded: 0, total: payload.size })
  const put = await presignedFetch(client, upload.url, { method: 'PUT', body: payload.body, contentType: o.contentType, call }, (s) => s === 200 || s === 201 || s === 204)
  await put.body?.cancel()
  const sent = payload.size ?? payload.counted?.() ?? 0
  if (payload.size !== undefined) o.onProgress?.({ loaded: sent, total: sent })
  const synced = await syncContext(client, { sessionId: id, contextId, path: parentDir(staged), mode: 'download', wait: o.wait, pollInterval: o.pollInterval ?? 1500 }, call)
  if (o.wait) {
    await deleteStaged(client, contextId, staged, call)
    const target = inside ? staged : path
    if (!inside) toolText(await invokeTool(client, id, 'move_file', { source: staged, destination: target }, call), 'move_file')
  }
  const etag = put.headers.get('etag')
  return {
    path: inside ? staged : path,
    bytesSent: sent,
    ...(etag ? { etag } : {}),
    requestIdUploadUrl: upload.requestId,
    requestIdSync: synced.requestId,
  }
}
