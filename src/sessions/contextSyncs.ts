import { invalid, nonBlank } from '../_internal/check.ts'

/** A persistent context to mount into a new session. */
export interface ContextSync {
  /** Context id (from the AGB console or context APIs). */
  contextId: string
  /** Sandbox directory to mount it at. */
  path: string
  /** Sync policy (upload, download, delete, extract, recycle rules). Default: the official SDKs' default policy. */
  policy?: Record<string, unknown>
}

/** Contexts in the form `createSession` sends them, built by {@link contextSyncs}. */
export type ContextSyncList = readonly { readonly contextId: string; readonly path: string; readonly policy: string }[]

/** The official SDKs' default sync policy, sent JSON-encoded. */
const DEFAULT_POLICY = {
  uploadPolicy: { autoUpload: true, uploadStrategy: 'UploadBeforeResourceRelease', uploadMode: 'File' },
  downloadPolicy: { autoDownload: true, downloadStrategy: 'DownloadAsync' },
  deletePolicy: { syncLocalFile: true },
  extractPolicy: { extract: true, deleteSrcFile: true, extractToCurrentFolder: false },
  recyclePolicy: { lifecycle: 'Lifecycle_Forever', paths: [''] },
  bwList: { whiteLists: [] },
}

/**
 * Persistent contexts to mount into a new session, checked and in the form the service takes
 * (each policy JSON-encoded, the official SDKs' default policy where none is given). Pass the
 * result as `createSession`'s `contextSyncs`. Their download into the sandbox starts with the
 * session; `createSession` does not wait for it: call `waitForContexts(client, session)`
 * before reading the mounted files.
 *
 * @param syncs - `{ contextId, path, policy? }` for each context.
 * @returns The list for `createSession(client, { imageId, contextSyncs })`.
 * @throws AgbError `invalid_input` for a blank context id or path, or a policy that is not an object.
 * @example
 * ```ts
 * const session = await createSession(client, { imageId: 'agb-code-space-1', contextSyncs: contextSyncs([{ contextId, path: '/home/user/data' }]) })
 * ```
 */
/* @__NO_SIDE_EFFECTS__ */
export function contextSyncs(syncs: readonly ContextSync[]): ContextSyncList {
  if (!Array.isArray(syncs)) invalid('params.contextSyncs', 'an array')
  return syncs.map((c: ContextSync, i) => {
    const policy = c?.policy
    if (policy !== undefined && (typeof policy !== 'object' || policy === null || Array.isArray(policy))) invalid(`params.contextSyncs.${i}.policy`, 'an object')
    return {
      contextId: nonBlank(c?.contextId, `params.contextSyncs.${i}.contextId`),
      path: nonBlank(c.path, `params.contextSyncs.${i}.path`),
      policy: JSON.stringify(policy ?? DEFAULT_POLICY),
    }
  })
}
