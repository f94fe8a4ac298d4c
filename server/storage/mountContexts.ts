import type { RouteContext } from '../routes/Route.ts'
import type { Session } from '../sessions/Session.ts'
import { ensureSandboxDir } from './sandboxFiles.ts'
import { storageFor } from './storageFor.ts'
import type { Mount } from './storageFor.ts'
import { startSync } from './syncContext.ts'

interface SyncPolicy {
  uploadPolicy?: { autoUpload?: boolean }
  downloadPolicy?: { autoDownload?: boolean }
  mappingPolicy?: { path?: unknown }
}

function parsePolicy(value: unknown): SyncPolicy {
  if (typeof value === 'string') {
    try {
      return (JSON.parse(value) ?? {}) as SyncPolicy
    } catch {
      return {}
    }
  }
  return value && typeof value === 'object' ? (value as SyncPolicy) : {}
}

/**
 * createSession's hook: remembers the origin the client used (so the OSS tools reach the
 * embedded store there in process) and mounts the session's `persistenceDataList` contexts:
 * each `{contextId, path, policy}` starts a download task (storage → sandbox `path`) unless
 * `downloadPolicy.autoDownload` is false, reported by GetContextInfo?sessionId=; mounts with
 * `uploadPolicy.autoUpload` (default) are uploaded back before the session is released.
 * `mappingPolicy.path` names where the data is stored when it was uploaded from another path:
 * files stored under it appear under `path`, and go back under it.
 * Unknown contexts give a `Failed` task, as the session itself is created.
 */
export async function mountContexts(ctx: RouteContext, session: Session): Promise<void> {
  const s = storageFor(ctx.config)
  s.selfOrigins.add(ctx.url.origin)
  const mounts: Mount[] = []
  for (const item of session.persistenceDataList) {
    if (!item || typeof item !== 'object') continue
    const { contextId, path, policy } = item as Record<string, unknown>
    if (typeof contextId !== 'string' || !contextId || typeof path !== 'string' || !path) continue
    const p = parsePolicy(policy)
    const mappedFrom = typeof p.mappingPolicy?.path === 'string' && p.mappingPolicy.path ? p.mappingPolicy.path : undefined
    mounts.push({ contextId, path, autoUpload: p.uploadPolicy?.autoUpload !== false, ...(mappedFrom ? { mappedFrom } : {}) })
    if (p.downloadPolicy?.autoDownload !== false) startSync(s, session, contextId, path, 'download', mappedFrom)
    else await ensureSandboxDir(session, path).catch(() => {})
  }
  if (mounts.length) s.mounts.set(session.id, mounts)
}
