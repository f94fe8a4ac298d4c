import type { Client } from '../client.ts'
import type { RequestOptions, Session } from '../types.ts'
import { isAgbError } from '../errors.ts'
import { withDeadline, type Call } from '../_internal/deadline.ts'
import { answerError, type Envelope } from '../_internal/envelope.ts'
import { toText } from '../_internal/toText.ts'
import { invalid, nonBlank, positive, requestOptions, stringRecord, clientOf } from '../_internal/check.ts'
import { retryDelay, retryPolicy } from '../_internal/retryPolicy.ts'
import { sleep } from '../_internal/sleep.ts'
import { toSession } from '../_internal/toSession.ts'
import { api } from '../_internal/transport.ts'
import { deleteSession } from './deleteSession.ts'
import type { ContextSyncList } from './contextSyncs.ts'

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
   * Persistent contexts to mount, built by `contextSyncs([{ contextId, path }])` (a separate
   * import). Their download into the sandbox starts with the session; `createSession` does
   * not wait for it: call `waitForContexts(client, session)` before reading the mounted files.
   */
  contextSyncs?: ContextSyncList
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
 * the session that was created instead of creating a second one (after a timed-out attempt it
 * keeps looking for up to 5 s, twice `retry.attemptTimeout` if longer, since the create may still
 * be under way), and when the caller aborts it finds and deletes it in the background.
 * `tag: false` turns this off.
 *
 * @param client - The client.
 * @param params - `imageId` (required), `labels`, `idleReleaseTimeout`, `policyId`, `contextSyncs` (from `contextSyncs(...)`), `tag`, `signal`, `timeout`, `retry`.
 * @returns The {@link Session}: its `id`, URLs and tools.
 * @throws AgbError `invalid_input` (before sending) for an empty imageId or blank labels;
 *   `api_error` when the service declines (e.g. unknown image, quota); `unauthorized`, `timeout`, ...
 * @example
 * ```ts
 * const session = await createSession(client, { imageId: 'agb-code-space-1', labels: { team: 'a' } })
 * ```
 */
export async function createSession(client: Client, params: CreateSessionParams): Promise<Session> {
  const p = requestOptions(params) ?? invalid('params', 'an object with imageId')
  const imageId = nonBlank(p.imageId, 'params.imageId')
  for (const k in stringRecord(p.labels, 'params.labels')) nonBlank(p.labels![k], `params.labels.${k}`)
  positive(p.idleReleaseTimeout, 'params.idleReleaseTimeout', 'seconds')
  if (p.policyId !== undefined) nonBlank(p.policyId, 'params.policyId')
  if (p.tag !== undefined && typeof p.tag !== 'boolean') invalid('params.tag', 'a boolean')
  // Built and checked by the `contextSyncs` opt-in (policies JSON-encoded); raw entries would mount nothing.
  if (p.contextSyncs !== undefined && !(Array.isArray(p.contextSyncs) && p.contextSyncs.every((c) => typeof c?.policy === 'string'))) {
    invalid('params.contextSyncs', 'built by contextSyncs([{ contextId, path }]) (import { contextSyncs })')
  }
  return withDeadline('createSession', p, clientOf(client).timeout, async (call) => {
    const { signal } = call
    const policy = retryPolicy(client, call)
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
    if (p.contextSyncs?.length) body.persistenceDataList = p.contextSyncs
    const request = {
      method: 'POST',
      path: '/mcp/createSession',
      query: {
        imageId,
        // Telemetry only; the official SDKs send it, whether the service needs it is [unverified].
        sdkStats: JSON.stringify({ source: 'sdk', sdk_language: 'typescript', sdk_version: VERSION, is_release: true }),
      },
      body,
    } as const
    let envelope: Envelope
    for (let attempt = 1; ; attempt++) {
      try {
        // Repeated inside only when the connection was refused; other repeats follow the tag lookup.
        envelope = await api(client, request, call)
        break
      } catch (error) {
        if (tag && signal.aborted) void reclaim(client, tag)
        if (!tag || !isAgbError(error) || !error.retryable || signal.aborted || attempt >= policy.attempts) throw error
        // The create may have gone through (its answer lost) or, after an attempt timed out, still
        // be under way: look for the tag, for a while after a timeout, before sending it again
        // (a second create would make a second session).
        const lookup = () =>
          findTagged(client, tag, call).catch(() => {
            throw error
          })
        let found = await lookup()
        for (let wait = 250, end = error.code === 'timeout' ? Date.now() + Math.max(2 * policy.attemptTimeout, 5_000) : 0; !found && Date.now() < end; wait *= 2) {
          await sleep(wait, signal).catch(() => {
            if (signal.aborted) void reclaim(client, tag)
            throw error
          })
          found = await lookup()
        }
        if (found) return toSession(client, found, imageId)
        await sleep(retryDelay(policy, attempt), signal).catch(() => {
          throw error
        })
      }
    }
    const data = envelope.data as { success?: unknown; errMsg?: unknown } | undefined
    if (data && data.success === false) {
      throw answerError('api_error', envelope, `session not created: ${toText(data.errMsg) || 'Unknown error'}`)
    }
    return toSession(client, envelope, imageId)
  })
}

/**
 * The create may still go through after an abort (the service takes seconds to create): look
 * for the tag for a while in the background and delete what appears, so an aborted create
 * cannot leak a paid session.
 */
async function reclaim(client: Client, tag: string): Promise<void> {
  const call: Call = { op: 'createSession (cleanup after abort)', signal: AbortSignal.timeout(60_000), timeout: 60_000 }
  for (let wait = 250; !call.signal.aborted; wait = Math.min(wait * 2, 5_000)) {
    const found = await findTagged(client, tag, call).catch(() => undefined)
    if (found) {
      await deleteSession(client, (found.data as { sessionId: string }).sessionId, { wait: false }).catch(() => undefined)
      return
    }
    await sleep(wait, call.signal).catch(() => undefined)
  }
}

/** The session carrying `tag`, fetched whole, if the service has one. */
async function findTagged(client: Client, tag: string, call: Call): Promise<Envelope | undefined> {
  const list = await api(client, { method: 'GET', path: '/sdk/ListSession', query: { maxResults: 1, labels: JSON.stringify({ [CREATE_TAG]: tag }) }, idempotent: true }, call)
  const first = Array.isArray(list.data) ? (list.data[0] as { sessionId?: unknown } | undefined) : undefined
  if (typeof first?.sessionId !== 'string') return undefined
  return api(client, { method: 'POST', path: '/mcp/getSession', body: { sessionId: first.sessionId }, idempotent: true }, call)
}
