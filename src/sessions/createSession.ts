import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions } from '../types.ts'
import { AgbError, isAgbError } from '../errors.ts'
import { contextItems } from '../_internal/contextItems.ts'
import { api, backoff, transportError, type Envelope } from '../_internal/request.ts'
import { withDeadline, retryPolicy, sleep } from '../_internal/signal.ts'
import { toSession, type Session } from '../_internal/toSession.ts'
import { nonEmpty, optionalMs, requestOptionEntries, validate } from '../_internal/validate.ts'
import { deleteSession } from './deleteSession.ts'
import { LabelsSchema } from '../_internal/labels.ts'
import { text } from '../_internal/text.ts'

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
  tag: v.optional(v.boolean('tag must be a boolean')),
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
  /**
   * Label the session `agb-micro-create-id` so a retried or aborted create never leaves a
   * duplicate or an orphan. Default `true`; `false` sends exactly the official SDK's request.
   */
  tag?: boolean
}

const VERSION = '0.1.0'

/** Label key of the tag that makes a retried create safe (see {@link createSession}). */
export const CREATE_TAG = 'agb-micro-create-id'

/**
 * Creates a session (`POST /mcp/createSession`).
 *
 * Safe to retry: the session is labelled `agb-micro-create-id: <time>-<uuid>`; when a create
 * fails ambiguously (timeout, dropped connection, 5xx) the SDK looks that label up and returns
 * the session that was created instead of creating a second one, and when the caller aborts it
 * finds and deletes it in the background. `tag: false` turns this off.
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
  return withDeadline(p, client.timeout, async (signal) => {
    const policy = retryPolicy(client, signal)
    // The session carries a client-made tag: after an ambiguous failure (the request may have
    // created a session) we look the tag up instead of creating twice, and after an abort we
    // find and delete what was created. It starts with the creation time (base 36) so
    // `reapSessions` can tell a session's age.
    const tag = p.tag === false ? undefined : `${Date.now().toString(36)}-${crypto.randomUUID()}`
    const labels = tag ? { ...p.labels, [CREATE_TAG]: tag } : p.labels
    const body: Record<string, unknown> = {}
    if (labels) body.labels = JSON.stringify(labels)
    if (p.idleReleaseTimeout !== undefined) body.timeout = p.idleReleaseTimeout
    if (p.policyId) body.mcpPolicyId = p.policyId
    if (p.contextSyncs?.length) {
      body.persistenceDataList = p.contextSyncs.map((c) => ({ contextId: c.contextId, path: c.path, policy: JSON.stringify(c.policy ?? DEFAULT_POLICY) }))
    }
    const call = {
      method: 'POST',
      path: '/mcp/createSession',
      query: {
        imageId: p.imageId,
        // Telemetry only; the official SDKs send it, whether the service needs it is [unverified].
        sdkStats: JSON.stringify({ source: 'sdk', sdk_language: 'typescript', sdk_version: VERSION, is_release: true }),
      },
      body,
    } as const
    let envelope: Envelope
    for (let attempt = 1; ; attempt++) {
      try {
        envelope = await api(client, call, signal)
        break
      } catch (error) {
        if (tag && signal.aborted) void reclaim(client, tag)
        if (!tag || !isAgbError(error) || !error.retryable || signal.aborted || attempt >= policy.attempts || policy.attempts < 2) throw error
        const found = await findTagged(client, tag, signal).catch(() => {
          throw error
        })
        if (found) return toSession(client, found, p.imageId)
        await sleep(backoff(policy, attempt), signal).catch(() => {
          throw error
        })
      }
    }
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
  })
}

/**
 * The create may still go through after an abort (the service takes seconds to create): look
 * for the tag for a while in the background and delete what appears, so an aborted create
 * cannot leak a paid session.
 */
async function reclaim(client: Client, tag: string): Promise<void> {
  const signal = AbortSignal.timeout(60_000)
  for (let wait = 250; !signal.aborted; wait = Math.min(wait * 2, 5_000)) {
    const found = await findTagged(client, tag, signal).catch(() => undefined)
    if (found) {
      await deleteSession(client, (found.data as { sessionId: string }).sessionId, { wait: false }).catch(() => undefined)
      return
    }
    await sleep(wait, signal).catch(() => undefined)
  }
}

/** The session carrying `tag`, fetched whole, if the service has one. */
async function findTagged(client: Client, tag: string, signal: AbortSignal): Promise<Envelope | undefined> {
  const list = await api(client, { method: 'GET', path: '/sdk/ListSession', query: { maxResults: 1, labels: JSON.stringify({ [CREATE_TAG]: tag }) }, idempotent: true }, signal)
  const first = Array.isArray(list.data) ? (list.data[0] as { sessionId?: unknown } | undefined) : undefined
  if (typeof first?.sessionId !== 'string') return undefined
  return api(client, { method: 'POST', path: '/mcp/getSession', body: { sessionId: first.sessionId }, idempotent: true }, signal)
}

/** Polls GetContextInfo until every mounted context finished (`Success`) or failed. */
async function waitForContexts(client: Client, sessionId: string, interval: number, signal: AbortSignal): Promise<void> {
  for (;;) {
    const info = await api(client, { method: 'GET', path: '/sdk/GetContextInfo', idempotent: true, query: { sessionId } }, signal)
    const pending = contextItems(info).filter((i) => !/^(success|failed)$/i.test(text(i.status)))
    if (!pending.length) return
    await sleep(interval, signal).catch((reason: unknown) => {
      throw transportError(reason, signal, '[createSession] waiting for context sync')
    })
  }
}
