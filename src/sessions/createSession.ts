import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions } from '../types.ts'
import { AgbError } from '../errors.ts'
import { api } from '../_internal/request.ts'
import { deadline } from '../_internal/signal.ts'
import { toSession, type Session } from '../_internal/toSession.ts'
import { nonEmpty, requestOptionEntries, validate } from '../_internal/validate.ts'
import { LabelsSchema } from '../_internal/labels.ts'

const CreateSessionParamsSchema = v.object({
  imageId: nonEmpty('imageId'),
  labels: v.optional(LabelsSchema),
  idleReleaseTimeout: v.optional(
    v.pipe(v.number('idleReleaseTimeout must be a number of seconds'), v.integer('idleReleaseTimeout must be whole seconds'), v.minValue(1, 'idleReleaseTimeout must be positive')),
  ),
  policyId: v.optional(nonEmpty('policyId')),
  ...requestOptionEntries,
})

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
}

const VERSION = '0.1.0'

/**
 * Creates a session (`POST /mcp/createSession`).
 *
 * @param client - The client.
 * @param params - `imageId` (required), `labels`, `idleReleaseTimeout`, `policyId`, `signal`, `timeout`.
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
    deadline(p, client.timeout),
  )
  const data = envelope.data as { success?: unknown; errMsg?: unknown } | undefined
  if (data && data.success === false) {
    const reason = typeof data.errMsg === 'string' && data.errMsg ? data.errMsg : 'Unknown error'
    throw new AgbError('api_error', `${envelope.label} session not created: ${reason}${envelope.requestId ? ` (request ${envelope.requestId})` : ''}`, {
      status: envelope.status,
      requestId: envelope.requestId,
    })
  }
  return toSession(client, envelope, p.imageId)
}
