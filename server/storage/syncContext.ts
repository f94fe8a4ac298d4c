import { posix } from 'node:path'
import { sandboxAbsolute } from '../sandbox/resolveSessionPath.ts'
import type { Session } from '../sessions/Session.ts'
import { ensureSandboxDir, listSandboxFiles, openSandboxFile, sandboxKind, writeSandboxFile } from './sandboxFiles.ts'
import { CONTEXT_BUCKET } from './storageFor.ts'
import type { Storage, SyncTask } from './storageFor.ts'

/** Sync direction: `download` = storage → sandbox, `upload` = sandbox → storage. */
export type SyncMode = 'upload' | 'download'

const TEMP_FILE = /^\.agb-[0-9a-f]{12}\.part$/
const nowSeconds = () => Math.floor(Date.now() / 1000)

/** Storage key of a sandbox file in a context: `<contextId><absolute sandbox path>`. */
export const contextKey = (contextId: string, sandboxPath: string) => `${contextId}${sandboxAbsolute(sandboxPath)}`

/** Key prefix of everything below a sandbox directory of a context. */
export function contextDirPrefix(contextId: string, sandboxDir: string): string {
  const dir = sandboxAbsolute(sandboxDir)
  return `${contextId}${dir === '/' ? '/' : `${dir}/`}`
}

/** `stored` (a stored path at or below `from`) moved below `dir`: mappingPolicy's path mapping. */
function remap(stored: string, from: string, dir: string): string {
  return from === dir ? stored : posix.join(dir, posix.relative(from, stored))
}

async function download(s: Storage, session: Session, contextId: string, path: string, storedAt: string): Promise<void> {
  const dir = sandboxAbsolute(path)
  const from = sandboxAbsolute(storedAt)
  const below = await s.objects.list(CONTEXT_BUCKET, contextDirPrefix(contextId, from))
  const exact = below.length ? undefined : await s.objects.head(CONTEXT_BUCKET, contextKey(contextId, from))
  if (!exact) await ensureSandboxDir(session, dir)
  for (const meta of exact ? [exact] : below) {
    const opened = await s.objects.read(CONTEXT_BUCKET, meta.key)
    if (!opened) continue // deleted meanwhile
    await writeSandboxFile(session, remap(meta.key.slice(contextId.length), from, dir), opened.stream)
  }
}

async function upload(s: Storage, session: Session, contextId: string, path: string, storedAt: string): Promise<void> {
  const dir = sandboxAbsolute(path)
  const from = sandboxAbsolute(storedAt)
  const kind = await sandboxKind(session, dir)
  if (kind === 'missing') throw new Error(`${dir}: no such file or directory in the session`)
  const files = kind === 'file' ? [dir] : await listSandboxFiles(session, dir)
  for (const file of files) {
    if (TEMP_FILE.test(file.slice(file.lastIndexOf('/') + 1))) continue
    const opened = await openSandboxFile(session, file).catch(() => undefined)
    if (!opened) continue // removed or replaced while we walked
    try {
      await s.objects.put(CONTEXT_BUCKET, contextKey(contextId, remap(file, dir, from)), opened.stream)
    } finally {
      opened.stream.destroy()
    }
  }
}

const samePath = (a: string, b: string) => sandboxAbsolute(a) === sandboxAbsolute(b)

/**
 * Starts a context sync for a session and records its task (status `InProgress`, then
 * `Success` or `Failed` with `errorMessage`). A newer task for the same context, path and
 * direction replaces the older one, so pollers never read a stale finished item.
 * @param storedAt where the data is stored (mappingPolicy.path); default: the mount's mapping of
 *   this context and path, else `path` itself
 * @returns the task and a promise settled when it ends (never rejects).
 */
export function startSync(s: Storage, session: Session, contextId: string, path: string, mode: SyncMode, storedAt?: string): { task: SyncTask; done: Promise<void> } {
  const stored = storedAt ?? s.mounts.get(session.id)?.find((m) => m.contextId === contextId && samePath(m.path, path))?.mappedFrom ?? path
  const task: SyncTask = { contextId, path, status: 'InProgress', taskType: mode, startTime: nowSeconds(), finishTime: 0, errorMessage: '' }
  const tasks = (s.tasks.get(session.id) ?? []).filter((t) => !(t.contextId === contextId && t.taskType === mode && samePath(t.path, path)))
  tasks.push(task)
  s.tasks.set(session.id, tasks)
  const context = s.contexts.get(contextId)
  const work = context
    ? (s.contexts.update(context, { lastUsedTime: new Date().toISOString() }), mode === 'download' ? download(s, session, contextId, path, stored) : upload(s, session, contextId, path, stored))
    : Promise.reject(new Error(`context not found: ${contextId}`))
  const done = work.then(
    () => {
      task.status = 'Success'
    },
    (e: Error) => {
      task.status = 'Failed'
      task.errorMessage = e.message || 'sync failed'
    },
  ).finally(() => {
    task.finishTime = nowSeconds()
  })
  return { task, done }
}

/** GetContextInfo's filter: only the given fields must match. */
export interface TaskFilter {
  contextId?: string
  path?: string
  taskType?: string
}

/**
 * `data.contextStatus` of GetContextInfo: a JSON string of `[{type:'data', data:<JSON string
 * of the task items>}]` — two levels of string encoding, as the service sends it.
 */
export function contextStatus(s: Storage, sessionId: string, filter: TaskFilter): string {
  const items = (s.tasks.get(sessionId) ?? [])
    .filter((t) => (!filter.contextId || t.contextId === filter.contextId) && (!filter.path || samePath(t.path, filter.path)) && (!filter.taskType || t.taskType === filter.taskType))
    .map(({ contextId, path, status, taskType, startTime, finishTime, errorMessage }) => ({ contextId, path, status, taskType, startTime, finishTime, errorMessage }))
  return JSON.stringify([{ type: 'data', data: JSON.stringify(items) }])
}
