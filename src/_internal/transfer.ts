import * as v from 'valibot'
import type { Client } from '../client.ts'
import { AgbError } from '../errors.ts'
import { contextItems } from './contextItems.ts'
import { decode, UrlSchema } from './decode.ts'
import type { Call } from './deadline.ts'
import type { Envelope } from './envelope.ts'
import { pause } from './sleep.ts'
import { api } from './transport.ts'
import { toText } from './toText.ts'

const ContextsSchema = v.pipe(
  v.optional(v.nullable(v.array(v.looseObject({ contextId: v.optional(v.nullable(v.string())), contextPath: v.optional(v.nullable(v.string())) })))),
  v.transform((items) => (items ?? []).find((c) => c.contextId && c.contextPath)),
  v.check((c) => c !== undefined, 'no file-transfer context in the response'),
  v.transform((c) => ({ contextId: c!.contextId!, contextPath: c!.contextPath!.replace(/\/+$/, '') })),
)

/** The session's file-transfer context: its id and sandbox directory. */
export async function transferContext(client: Client, sessionId: string, call: Call): Promise<{ contextId: string; contextPath: string }> {
  const envelope = await api(
    client,
    { method: 'POST', path: '/sdk/GetAndLoadInternalContext', idempotent: true, query: { sessionId, contextTypes: JSON.stringify(['file_transfer']) } },
    call,
  )
  return decode(ContextsSchema, envelope.data, envelope)
}

/** Where a remote path lives: inside the transfer directory as is, elsewhere staged there. */
export function stagePath(remotePath: string, contextPath: string): { staged: string; inside: boolean } {
  const absolute = remotePath.startsWith('/') ? remotePath : `${contextPath}/${remotePath}`
  if (absolute.startsWith(`${contextPath}/`)) return { staged: absolute, inside: true }
  const name = absolute.slice(absolute.lastIndexOf('/') + 1) || 'file'
  return { staged: `${contextPath}/${crypto.randomUUID().slice(0, 8)}-${name}`, inside: false }
}

/** The directory SyncContext takes: the parent of the file. */
export const parentDir = (path: string) => path.slice(0, path.lastIndexOf('/')) || '/'

const DONE = new Set(['success', 'successful', 'ok', 'finished', 'done', 'completed', 'complete'])

/**
 * Moves files between the sandbox and storage (`SyncContext`) and, unless told not to,
 * polls `GetContextInfo` until the matching task finishes or fails.
 */
export async function syncContext(
  client: Client,
  params: { sessionId: string; contextId: string; path: string; mode: 'upload' | 'download'; wait: boolean; pollInterval: number },
  call: Call,
): Promise<Envelope> {
  const { sessionId, contextId, path, mode } = params
  const synced = await api(client, { method: 'POST', path: '/sdk/SyncContext', query: { sessionId, contextId, path, mode } }, call)
  while (params.wait) {
    const info = await api(client, { method: 'GET', path: '/sdk/GetContextInfo', idempotent: true, query: { sessionId, contextId, path, taskType: mode } }, call)
    const items = contextItems(info)
    const item = items.find((i) => i.contextId === contextId && i.path === path && (i.taskType === undefined || i.taskType === mode))
    const status = toText(item?.status).toLowerCase()
    if (item && (typeof item.errorMessage === 'string' && item.errorMessage ? true : status === 'failed')) {
      throw new AgbError('api_error', `${call.op}: ${toText(item.errorMessage) || 'sync failed'} (SyncContext ${mode} ${path}, request ${info.requestId})`, { requestId: info.requestId })
    }
    if (DONE.has(status)) break
    await pause(params.pollInterval, call, `SyncContext ${mode} ${path} not finished`)
  }
  return synced
}

/** Removes the staged object from storage; best effort, as the transfer itself succeeded. */
export async function deleteStaged(client: Client, contextId: string, filePath: string, call: Call): Promise<void> {
  await api(client, { method: 'POST', path: '/sdk/DeleteContextFile', idempotent: true, query: { contextId, filePath } }, call).catch(() => undefined)
}

/** A presigned URL for one staged file. */
export async function presignedUrl(client: Client, kind: 'Upload' | 'Download', contextId: string, filePath: string, call: Call) {
  const envelope = await api(client, { method: 'POST', path: `/sdk/GetContextFile${kind}Url`, idempotent: true, query: { contextId, filePath } }, call)
  return { url: decode(UrlSchema, envelope.data, envelope), requestId: envelope.requestId }
}
