import type { LocalConfig } from '../config.ts'
import type { SessionStore } from '../sessions/createSessionStore.ts'
import type { Session } from '../sessions/Session.ts'
import type { LocalOss } from './LocalOss.ts'
import { CONTEXT_BUCKET, DEFAULT_BUCKET, INTERNAL_ORIGIN, OSS_PREFIX, storageFor } from './storageFor.ts'
import type { Storage } from './storageFor.ts'
import { startSync } from './syncContext.ts'

/** Longest wait for the upload of mounted contexts before a release goes on regardless. */
const UPLOAD_BEFORE_RELEASE_MS = 60_000
/** How long GetContextInfo still knows a released session's tasks. */
const TASK_RETENTION_MS = 60_000

async function uploadMounts(s: Storage, session: Session): Promise<void> {
  const mounts = (s.mounts.get(session.id) ?? []).filter((m) => m.autoUpload)
  const all = Promise.all(mounts.map((m) => startSync(s, session, m.contextId, m.path, 'upload').done))
  await Promise.race([all, new Promise((r) => setTimeout(r, UPLOAD_BEFORE_RELEASE_MS).unref())])
}

async function forget(s: Storage, session: Session): Promise<void> {
  s.mounts.delete(session.id)
  setTimeout(() => s.tasks.delete(session.id), TASK_RETENTION_MS).unref()
  const internal = s.contexts.internalOf(session.id)
  if (!internal) return
  s.contexts.remove(internal.id)
  await s.objects.deletePrefix(CONTEXT_BUCKET, `${internal.id}/`).catch(() => {})
}

/**
 * Connects the storage feature to one AGB Local: gives it the handler (for in-process requests
 * of the OSS tools), makes every release (client, idle, lifetime, shutdown) first upload the
 * session's mounted contexts whose policy says `autoUpload` (UploadBeforeResourceRelease) and
 * then drop its file-transfer context; lets shutdown finish those before directories are
 * removed; and returns `local.oss`.
 */
export function attachStorage(config: LocalConfig, store: SessionStore, handler: (req: Request) => Promise<Response>): LocalOss {
  const s = storageFor(config)
  s.handler = handler
  const release = store.release.bind(store)
  const releasing = new Map<string, Promise<void>>()
  store.release = (session, reason) => {
    let p = releasing.get(session.id)
    if (p) return p
    const pending = session.status === 'RUNNING' && (s.mounts.get(session.id) ?? []).some((m) => m.autoUpload)
    // Without anything to upload the release starts synchronously, as callers expect.
    p = (pending ? uploadMounts(s, session).then(() => release(session, reason)) : release(session, reason)).finally(() => forget(s, session))
    releasing.set(session.id, p)
    void p.finally(() => setTimeout(() => releasing.delete(session.id), TASK_RETENTION_MS).unref()).catch(() => {})
    return p
  }
  const closeAll = store.closeAll.bind(store)
  store.closeAll = async () => {
    // Uploads and context cleanup finish before the session store removes directories.
    await Promise.all(store.all().map((session) => store.release(session, 'shutdown')))
    await s.contexts.close()
    return closeAll()
  }
  const credentials = s.credentials
  // An origin the caller says reaches AGB Local is served in process by the OSS tools too.
  const known = (origin: string) => {
    const clean = new URL(origin).origin
    s.selfOrigins.add(clean)
    return clean
  }
  const oss: LocalOss = {
    endpoint: (origin = INTERNAL_ORIGIN) => `${known(origin)}${OSS_PREFIX}`,
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    bucket: DEFAULT_BUCKET,
    region: credentials.region,
    presign: (method, bucket, key, expiresSeconds = 3600, origin = INTERNAL_ORIGIN) => s.presign(method, bucket, key, expiresSeconds, known(origin)),
  }
  return Object.freeze(oss)
}
