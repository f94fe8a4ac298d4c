import { createHash } from 'node:crypto'
import { fail, ok } from '../http/envelope.ts'
import type { Route, RouteContext } from '../routes/Route.ts'
import { BadRequest } from '../routes/Route.ts'
import { sessionNotFound } from '../routes/sessionNotFound.ts'
import { sandboxAbsolute } from '../sandbox/resolveSessionPath.ts'
import type { ContextRecord } from './contextRegistry.ts'
import { ensureSandboxDir } from './sandboxFiles.ts'
import { CONTEXT_BUCKET, storageFor } from './storageFor.ts'
import type { Storage } from './storageFor.ts'
import { contextDirPrefix, contextKey, contextStatus, startSync } from './syncContext.ts'
import type { SyncMode } from './syncContext.ts'

/** Validity of the presigned context-file URLs, in seconds (also their `expireTime`). */
export const PRESIGNED_URL_SECONDS = 3600
/** Sandbox directory of a session's file-transfer context. */
export const FILE_TRANSFER_PATH = '/tmp/file_transfer'

function param(ctx: RouteContext, name: string): string | undefined {
  const v = ctx.url.searchParams.get(name)
  return v === null || v === '' ? undefined : v
}

function required(ctx: RouteContext, name: string): string {
  const v = param(ctx, name)
  if (v === undefined) throw new BadRequest(`${name} is required`)
  return v
}

function intParam(ctx: RouteContext, name: string, fallback: number, max: number): number {
  const v = param(ctx, name)
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new BadRequest(`${name} must be a positive integer`)
  return Math.min(n, max)
}

function contextNotFound(ctx: RouteContext, id: string): Response {
  return fail(ctx.requestId, 400, 'InvalidContext.NotFound', `context not found: ${id}`)
}

/** The context of `contextId`/`id`, or the not-found envelope. */
function lookup(ctx: RouteContext, s: Storage, name: 'id' | 'contextId'): ContextRecord | Response {
  const id = required(ctx, name)
  return s.contexts.get(id) ?? contextNotFound(ctx, id)
}

const publicContext = ({ id, name, createTime, lastUsedTime }: ContextRecord) => ({ id, name, createTime, lastUsedTime })

function listContexts(ctx: RouteContext): Response {
  const s = storageFor(ctx.config)
  const maxResults = intParam(ctx, 'maxResults', 10, 100)
  const all = s.contexts.list()
  const start = Number(param(ctx, 'nextToken') ?? 0) || 0
  const page = all.slice(start, start + maxResults)
  const next = start + maxResults < all.length ? String(start + maxResults) : ''
  return ok(ctx.requestId, page.map(publicContext), { extras: { nextToken: next, maxResults, totalCount: all.length } })
}

function getContext(ctx: RouteContext): Response {
  const s = storageFor(ctx.config)
  const id = param(ctx, 'id')
  const name = param(ctx, 'name')
  if (!id && !name) throw new BadRequest('id or name is required')
  let context = id ? s.contexts.get(id) : s.contexts.byName(name!)
  if (!context && !id && param(ctx, 'allowCreate') === 'true') context = s.contexts.create(name!)
  if (!context) return contextNotFound(ctx, id ?? name!)
  return ok(ctx.requestId, { ...publicContext(context), state: context.state })
}

function modifyContext(ctx: RouteContext): Response {
  const s = storageFor(ctx.config)
  const context = lookup(ctx, s, 'id')
  if (context instanceof Response) return context
  const name = required(ctx, 'name')
  const other = s.contexts.byName(name)
  if (other && other.id !== context.id) throw new BadRequest(`a context named ${name} already exists`)
  s.contexts.update(context, { name })
  return ok(ctx.requestId)
}

async function deleteContext(ctx: RouteContext): Promise<Response> {
  const s = storageFor(ctx.config)
  const context = lookup(ctx, s, 'id')
  if (context instanceof Response) return context
  s.contexts.remove(context.id)
  await s.objects.deletePrefix(CONTEXT_BUCKET, `${context.id}/`)
  return ok(ctx.requestId)
}

function clearContext(ctx: RouteContext): Response {
  const s = storageFor(ctx.config)
  const context = lookup(ctx, s, 'id')
  if (context instanceof Response) return context
  s.contexts.update(context, { state: 'clearing' })
  void s.objects.deletePrefix(CONTEXT_BUCKET, `${context.id}/`).finally(() => {
    if (s.contexts.get(context.id)) s.contexts.update(context, { state: 'available' })
  })
  return ok(ctx.requestId)
}

function fileUrl(method: 'PUT' | 'GET') {
  return (ctx: RouteContext): Response => {
    const s = storageFor(ctx.config)
    const context = lookup(ctx, s, 'contextId')
    if (context instanceof Response) return context
    const key = contextKey(context.id, required(ctx, 'filePath'))
    s.selfOrigins.add(ctx.url.origin)
    const url = s.presign(method, CONTEXT_BUCKET, key, PRESIGNED_URL_SECONDS, ctx.url.origin)
    return ok(ctx.requestId, { url, expireTime: PRESIGNED_URL_SECONDS })
  }
}

async function deleteContextFile(ctx: RouteContext): Promise<Response> {
  const s = storageFor(ctx.config)
  const context = lookup(ctx, s, 'contextId')
  if (context instanceof Response) return context
  const path = required(ctx, 'filePath')
  // A folder path removes what is below it, as deleting a folder does.
  if (!(await s.objects.delete(CONTEXT_BUCKET, contextKey(context.id, path)))) await s.objects.deletePrefix(CONTEXT_BUCKET, contextDirPrefix(context.id, path))
  return ok(ctx.requestId)
}

const fileId = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 24)
const iso = (ms: number) => new Date(ms).toISOString()

async function describeContextFiles(ctx: RouteContext): Promise<Response> {
  const s = storageFor(ctx.config)
  const context = lookup(ctx, s, 'contextId')
  if (context instanceof Response) return context
  const folder = sandboxAbsolute(param(ctx, 'parentFolderPath') ?? '/')
  const pageNumber = intParam(ctx, 'pageNumber', 1, Number.MAX_SAFE_INTEGER)
  const pageSize = intParam(ctx, 'pageSize', 50, 1000)
  const prefix = contextDirPrefix(context.id, folder)
  const folders = new Map<string, { created: number; modified: number }>()
  const files = []
  for (const meta of await s.objects.list(CONTEXT_BUCKET, prefix)) {
    const rest = meta.key.slice(prefix.length)
    const slash = rest.indexOf('/')
    if (slash < 0) {
      files.push({
        fileId: fileId(meta.key), fileName: rest, filePath: meta.key.slice(context.id.length), fileType: 'file',
        gmtCreate: iso(meta.created), gmtModified: iso(meta.modified), size: meta.size, status: 'available',
      })
      continue
    }
    const name = rest.slice(0, slash)
    const seen = folders.get(name)
    folders.set(name, { created: Math.min(seen?.created ?? meta.created, meta.created), modified: Math.max(seen?.modified ?? 0, meta.modified) })
  }
  const entries = [
    ...[...folders].map(([name, t]) => {
      const filePath = `${prefix.slice(context.id.length)}${name}`
      return { fileId: fileId(`${context.id}${filePath}/`), fileName: name, filePath, fileType: 'folder', gmtCreate: iso(t.created), gmtModified: iso(t.modified), size: 0, status: 'available' }
    }),
    ...files,
  ]
  const start = (pageNumber - 1) * pageSize
  const next = start + pageSize < entries.length ? String(pageNumber + 1) : ''
  return ok(ctx.requestId, entries.slice(start, start + pageSize), { extras: { count: entries.length, nextToken: next, maxResults: pageSize } })
}

async function getAndLoadInternalContext(ctx: RouteContext): Promise<Response> {
  const s = storageFor(ctx.config)
  const session = ctx.store.live(required(ctx, 'sessionId'))
  if (!session) return sessionNotFound(ctx.requestId, 'Session not found')
  let types: unknown = ['file_transfer']
  const raw = param(ctx, 'contextTypes')
  if (raw !== undefined) {
    try {
      types = JSON.parse(raw)
    } catch {
      throw new BadRequest('contextTypes must be a JSON-encoded array')
    }
  }
  if (!Array.isArray(types)) throw new BadRequest('contextTypes must be a JSON-encoded array')
  const data = []
  if (types.includes('file_transfer')) {
    const context = s.contexts.internalOf(session.id) ?? s.contexts.create(`file_transfer-${session.id}`, session.id)
    await ensureSandboxDir(session, FILE_TRANSFER_PATH)
    data.push({ contextId: context.id, contextType: 'file_transfer', contextPath: FILE_TRANSFER_PATH })
  }
  return ok(ctx.requestId, data)
}

function syncContext(ctx: RouteContext): Response {
  const s = storageFor(ctx.config)
  const session = ctx.store.live(required(ctx, 'sessionId'))
  if (!session) return sessionNotFound(ctx.requestId, 'Session not found')
  const contextId = param(ctx, 'contextId')
  const path = param(ctx, 'path')
  if (!contextId !== !path) throw new BadRequest('contextId and path must be given together')
  const mode = (param(ctx, 'mode') ?? 'upload').toLowerCase()
  if (mode !== 'upload' && mode !== 'download') throw new BadRequest('mode must be upload or download')
  if (contextId && !s.contexts.get(contextId)) return contextNotFound(ctx, contextId)
  const targets = contextId ? [{ contextId, path: path! }] : (s.mounts.get(session.id) ?? [])
  for (const t of targets) startSync(s, session, t.contextId, t.path, mode as SyncMode)
  ctx.store.touch(session)
  return ok(ctx.requestId)
}

function getContextInfo(ctx: RouteContext): Response {
  const s = storageFor(ctx.config)
  const sessionId = required(ctx, 'sessionId')
  if (!ctx.store.get(sessionId)) return sessionNotFound(ctx.requestId, 'Session not found')
  const filter = { contextId: param(ctx, 'contextId'), path: param(ctx, 'path'), taskType: param(ctx, 'taskType') }
  return ok(ctx.requestId, { contextStatus: contextStatus(s, sessionId, filter) })
}

/** Contexts, context files and presigned transfer, sync (PROTOCOL §3.12, §9.2). */
export const contextRoutes: readonly Route[] = [
  { method: 'GET', path: '/sdk/ListContexts', auth: 'apiKey', run: listContexts },
  { method: 'GET', path: '/sdk/GetContext', auth: 'apiKey', run: getContext },
  { method: 'POST', path: '/sdk/ModifyContext', auth: 'apiKey', run: modifyContext },
  { method: 'POST', path: '/sdk/DeleteContext', auth: 'apiKey', run: deleteContext },
  { method: 'POST', path: '/sdk/ClearContext', auth: 'apiKey', run: clearContext },
  { method: 'POST', path: '/sdk/GetContextFileUploadUrl', auth: 'apiKey', run: fileUrl('PUT') },
  { method: 'POST', path: '/sdk/GetContextFileDownloadUrl', auth: 'apiKey', run: fileUrl('GET') },
  { method: 'POST', path: '/sdk/DeleteContextFile', auth: 'apiKey', run: deleteContextFile },
  { method: 'POST', path: '/sdk/DescribeContextFiles', auth: 'apiKey', run: describeContextFiles },
  { method: 'POST', path: '/sdk/GetAndLoadInternalContext', auth: 'apiKey', run: getAndLoadInternalContext },
  { method: 'POST', path: '/sdk/SyncContext', auth: 'apiKey', run: syncContext },
  { method: 'GET', path: '/sdk/GetContextInfo', auth: 'apiKey', run: getContextInfo },
]
