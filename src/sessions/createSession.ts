import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions } from '../types.ts'
import { AgbError } from '../errors.ts'
import { contextItems } from '../_internal/contextItems.ts'
import { api, transportError } from '../_internal/request.ts'
import { deadline, sleep } from '../_internal/signal.ts'
import { toSession, type Session } from '../_internal/toSession.ts'
import { nonEmpty, optionalMs, requestOptionEntries, validate } from '../_internal/validate.ts'
import { deleteSession } from './deleteSession.ts'
import { LabelsSchema } from '../_internal/labels.ts'

const CreateSessionParamsSchema = v.object({
  imageId: nonEmpty('imageId'),
  labels: v.optional(LabelsSchema),
  idleReleaseTimeout: v.optional(
    v.pipe(v.number('idleReleaseTimeout must be a number of seconds'), v.integer('idleReleaseTimeout must be whole seconds'), v.minValue(1, 'idleReleaseTimeout must be positive')),
  ),
  policyId: v.optional(nonEmpty('policyId')),
  contextSyncs: v.optional(
    v.array(
      v.object({
        contextId: nonEmpty('contextId'),
        path: nonEmpty('path'),
        policy: v.optional(v.record(v.string(), v.unknown(), 'policy must be an object')),
      }),
      'contextSyncs must be an array',
    ),
  ),
  pollInterval: optionalMs('pollInterval'),
  ...requestOptionEntries,
})

/** The official SDKs' default sync policy (PROTOCOL §3.4), sent JSON-encoded. */
const DEFAULT_POLICY = {
  uploadPolicy: { autoUpload: true, uploadStrategy: 'UploadBeforeResourceRelease', uploadMode: 'File' },
  downloadPolicy: { autoDownload: true, downloadStrategy: 'DownloadAsync' },
  deletePolicy: { syncLocalFile: true },
  extractPolicy: { extract: true, deleteSrcFile: true, extractToCurrentFolder: false },
  recyclePolicy: { lifecycle: 'Lifecycle_Forever', paths: [''] },
  bwList: { whiteLists: [] },
}

/** A persistent context to mount into the new session. */
export interface ContextSync {
  /** Context id (from the AGB console or context APIs). */
  contextId: string
  /** Sandbox directory to mount it at. */
  path: string
  /** Sync policy (PROTOCOL §3.4). Default: the official SDKs' default policy. */
  policy?: Record<string, unknown>
}

/** What to create: the image, and optionally labels, idle timeout and policy. */
export interface CreateSessionParams extends RequestOptions {
  /** Image to start from, e.g. `agb-code-space-1`. Required. */
  imageId: string
  /** Labels to find the session by later (`listSessions`). Keys and values must be non-blank. */
  labels?: Record<string, string>
  /** Seconds without activity after which the service releases the session (service default 300). */
  idleReleaseTimeout?: number
  /** MCP policy id to apply. */
  policyId?: string
  /**
   * Persistent contexts to mount. `createSession` waits until their download into the
   * sandbox has finished (or failed) before it returns.
   */
  contextSyncs?: ContextSync[]
  /** Milliseconds between context-sync status polls. Default 2000. */
  pollInterval?: number
}

const VERSION = '0.1.0'

/**
 * Creates a session (`POST /mcp/createSession`).
 *
 * @param client - The client.
 * @param params - `imageId` (required), `labels`, `idleReleaseTimeout`, `policyId`, `contextSyncs`, `signal`, `timeout`.
 * @returns The {@link Session}: its `id`, URLs and tools.
 * @throws AgbError `invalid_input` (before sending) for an empty imageId or blank labels;
 *   `api_error` when the service declines (e.g. unknown image, quota); `unauthorized`, `timeout`, ...
 * @example
 * ```ts
 * const session = await createSession(client, { imageId: 'agb-code-space-1', labels: { team: 'a' } })
 * ```
 */
export async function createSession(client: Client, params: CreateSessionParams): Promise<Session> {
  const p = validate(CreateSessionParamsSchema, params, 'params')
  const body: Record<string, unknown> = {}
  if (p.labels) body.labels = JSON.stringify(p.labels)
  if (p.idleReleaseTimeout !== undefined) body.timeout = p.idleReleaseTimeout
  if (p.policyId) body.mcpPolicyId = p.policyId
  if (p.contextSyncs?.length) {
    body.persistenceDataList = p.contextSyncs.map((c) => ({ contextId: c.contextId, path: c.path, policy: JSON.stringify(c.policy ?? DEFAULT_POLICY) }))
  }
  const signal = deadline(p, client.timeout)
  const envelope = await api(
    client,
    {
      method: 'POST',
      path: '/mcp/createSession',
      query: {
        imageId: p.imageId,
        // Telemetry only; the official SDKs send it, whether the service needs it is [unverified].
        sdkStats: JSON.stringify({ source: 'sdk', sdk_language: 'typescript', sdk_version: VERSION, is_release: true }),
      },
      body,
    },
    signal,
  )
  const data = envelope.data as { success?: unknown; errMsg?: unknown } | undefined
  if (data && data.success === false) {
    const reason = typeof data.errMsg === 'string' && data.errMsg ? data.errMsg : 'Unknown error'
    throw new AgbError('api_error', `${envelope.label} session not created: ${reason}${envelope.requestId ? ` (request ${envelope.requestId})` : ''}`, {
      status: envelope.status,
      requestId: envelope.requestId,
    })
  }
  const session = toSession(client, envelope, p.imageId)
  if (!p.contextSyncs?.length) return session
  try {
    await waitForContexts(client, session.id, p.pollInterval ?? 2000, signal)
  } catch (error) {
    // The caller never got the handle: delete the session rather than leak it.
    await deleteSession(client, session.id, { wait: false }).catch(() => undefined)
    throw error
  }
  return session
}

/** Polls GetContextInfo until every mounted context finished (`Success`) or failed. */
async function waitForContexts(client: Client, sessionId: string, interval: number, signal: AbortSignal): Promise<void> {
  for (;;) {
    const info = await api(client, { method: 'GET', path: '/sdk/GetContextInfo', query: { sessionId } }, signal)
    const pending = contextItems(info).filter((i) => !/^(success|failed)$/i.test(String(i.status ?? '')))
    if (!pending.length) return
    await sleep(interval, signal).catch((reason: unknown) => {
      throw transportError(reason, signal, '[createSession] waiting for context sync')
    })
  }
}
