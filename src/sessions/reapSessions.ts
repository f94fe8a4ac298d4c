import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions } from '../types.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { LabelsSchema, optionalMs, requestOptionEntries, validate } from '../_internal/validate.ts'
import { CREATE_TAG } from './createSession.ts'
import { deleteSession } from './deleteSession.ts'
import { getLabels } from './getLabels.ts'
import { listSessions } from './listSessions.ts'
import { clientOf } from '../_internal/check.ts'

const ReapSessionsOptionsSchema = v.object({
  labels: v.pipe(LabelsSchema, v.check((l) => Object.keys(l).length > 0, 'labels must not be empty (reaping every session is never what you want)')),
  olderThan: optionalMs('olderThan'),
  ...requestOptionEntries,
})

/** Options for {@link reapSessions}. */
export interface ReapSessionsOptions extends RequestOptions {
  /** Only sessions carrying all these labels. Required. */
  labels: Record<string, string>
  /**
   * Only sessions created at least this many milliseconds ago. The age comes from the tag
   * `createSession` adds (`agb-micro-create-id`); sessions without it are kept.
   */
  olderThan?: number
  /** Milliseconds the whole sweep may take. Default 300 000. */
  timeout?: number
}

/** What {@link reapSessions} did. */
export interface ReapSessionsResult {
  /** Ids deleted. */
  deleted: string[]
  /** Ids matched by labels but kept (too young, or of unknown age). */
  kept: string[]
  /** Ids whose deletion failed, with the error message. */
  failed: { id: string; error: string }[]
}

/**
 * Deletes forgotten sessions by label (and age): the safety net for crashed jobs that never
 * reached their cleanup. Deletions are requested without waiting (`wait: false`).
 *
 * @param client - The client.
 * @param options - `labels` (required), `olderThan` (ms), `signal`, `timeout` (default 300 s).
 * @returns The ids deleted, kept and failed.
 * @throws AgbError `invalid_input` without labels; listing failures (`unauthorized`, ...).
 * @example
 * ```ts
 * await reapSessions(client, { labels: { job: 'nightly' }, olderThan: 60 * 60_000 })
 * ```
 */
export async function reapSessions(client: Client, options: ReapSessionsOptions): Promise<ReapSessionsResult> {
  clientOf(client)
  const o = validate(ReapSessionsOptionsSchema, options, 'options')
  return withDeadline('reapSessions', o, 300_000, async ({ signal }) => {
    const result: ReapSessionsResult = { deleted: [], kept: [], failed: [] }
    const now = Date.now()
    for await (const { id } of listSessions(client, { labels: o.labels, maxResults: 100, signal })) {
      if (o.olderThan !== undefined) {
        const tag = (await getLabels(client, id, { signal }))[CREATE_TAG] ?? ''
        const created = Number.parseInt(tag.split('-')[0] ?? '', 36)
        if (!Number.isFinite(created) || now - created < o.olderThan) {
          result.kept.push(id)
          continue
        }
      }
      await deleteSession(client, id, { wait: false, signal }).then(
        () => result.deleted.push(id),
        (error: unknown) => result.failed.push({ id, error: error instanceof Error ? error.message : String(error) }),
      )
    }
    return result
  })
}
