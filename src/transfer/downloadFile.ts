import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { AgbError } from '../errors.ts'
import { invokeTool } from '../_internal/invokeTool.ts'
import { presignedFetch } from '../_internal/presigned.ts'
import { untilAborted } from '../_internal/sleep.ts'
import { transportError } from '../_internal/transportError.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { openDeadline } from '../_internal/deadline.ts'
import { deleteStaged, parentDir, presignedUrl, stagePath, syncContext, transferContext } from '../_internal/transfer.ts'
import { nonEmpty, optionalMs, requestOptionEntries, validate } from '../_internal/validate.ts'
import type { TransferProgress } from './uploadFile.ts'
import { shellResult } from '../_internal/shellResult.ts'
import { clientOf } from '../_internal/check.ts'

const DownloadFileOptionsSchema = v.object({
  format: v.optional(v.picklist(['bytes', 'stream'], 'format must be "bytes" or "stream"'), 'bytes'),
  pollInterval: optionalMs('pollInterval'),
  onProgress: v.optional(v.custom<(p: TransferProgress) => void>((f) => typeof f === 'function', 'onProgress must be a function')),
  ...requestOptionEntries,
})

/** Options for {@link downloadFile}. */
export interface DownloadFileOptions extends RequestOptions {
  /** `bytes` (default) buffers the file into a `Uint8Array`; `stream` returns a `ReadableStream` as it arrives. */
  format?: 'bytes' | 'stream'
  /** Milliseconds between sync-status polls. Default 1500. */
  pollInterval?: number
  /** Called as bytes arrive, with the total when the store sends a length. */
  onProgress?: (progress: TransferProgress) => void
  /** Milliseconds the whole download may take, reading a stream included. Default 300 000. */
  timeout?: number
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * Downloads a sandbox file through the session's file-transfer context:
 * sync out of the sandbox, a presigned URL, a bare `GET` (never with the API key). With
 * `format: 'stream'` nothing is buffered; the staged copy is removed when the stream ends.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param remotePath - Sandbox path of the file (outside the transfer directory it is copied there first).
 * @param options - `format` (`bytes` default, or `stream`), `pollInterval`, `onProgress`, `timeout` (default 300 s), `signal`.
 * @returns The bytes, or a `ReadableStream<Uint8Array>`.
 * @throws AgbError `tool_error` when the file does not exist; `timeout`, `unauthorized`, ...
 * @example
 * ```ts
 * const bytes = await downloadFile(client, session, '/home/user/model.bin')
 * const stream = await downloadFile(client, session, '/home/user/big.log', { format: 'stream' })
 * ```
 */
export async function downloadFile(client: Client, session: SessionRef, remotePath: string, options: DownloadFileOptions & { format: 'stream' }): Promise<ReadableStream<Uint8Array>>
export async function downloadFile(client: Client, session: SessionRef, remotePath: string, options?: DownloadFileOptions & { format?: 'bytes' }): Promise<Uint8Array>
export async function downloadFile(client: Client, session: SessionRef, remotePath: string, options?: DownloadFileOptions): Promise<Uint8Array | ReadableStream<Uint8Array>> {
  clientOf(client)
  const id = sessionId(session)
  const path = validate(nonEmpty('remotePath'), remotePath, 'remotePath')
  const o = validate(DownloadFileOptionsSchema, options ?? {}, 'options')
  const call = openDeadline('downloadFile', o, 300_000)
  const { signal } = call
  const { contextId, contextPath } = await transferContext(client, id, call)
  const { staged, inside } = stagePath(path, contextPath)
  if (!inside) {
    // Copy (not move) into the transfer directory: the user's file stays where it is.
    const command = `mkdir -p ${quote(contextPath)} && cp ${quote(path)} ${quote(staged)}`
    const out = await invokeTool(client, id, 'shell', { command, timeout_ms: 60_000 }, call)
    if (shellResult(out).exitCode !== 0) throw new AgbError('tool_error', `downloadFile: cannot read ${path}: ${out.text.slice(0, 300)}`, { requestId: out.requestId })
  }
  await syncContext(client, { sessionId: id, contextId, path: parentDir(staged), mode: 'upload', wait: true, pollInterval: o.pollInterval ?? 1500 }, call)
  const { url } = await presignedUrl(client, 'Download', contextId, staged, call)
  const response = await presignedFetch(client, url, { method: 'GET', call }, (s) => s === 200)
  const cleanup = async () => {
    await deleteStaged(client, contextId, staged, call)
    if (!inside) await invokeTool(client, id, 'delete_file', { path: staged }, call).catch(() => undefined)
  }
  const length = Number(response.headers.get('content-length'))
  const total = Number.isFinite(length) && length > 0 ? length : undefined
  let loaded = 0
  const counted = (response.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() })).pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        loaded += chunk.byteLength
        o.onProgress?.(total === undefined ? { loaded } : { loaded, total })
        controller.enqueue(chunk)
      },
      async flush() {
        await cleanup()
      },
    }),
  )
  if (o.format === 'stream') return counted
  try {
    return new Uint8Array(await untilAborted(signal, new Response(counted).arrayBuffer()))
  } catch (error) {
    throw transportError(error, call, `GET ${url.replace(/[?#].*$/, '')}`)
  }
}
