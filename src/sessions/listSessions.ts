import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions } from '../types.ts'
import { decode } from '../_internal/decode.ts'
import { api } from '../_internal/transport.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { LabelsSchema, requestOptionEntries, validate } from '../_internal/validate.ts'
import { clientOf } from '../_internal/check.ts'

const ListSessionsOptionsSchema = v.object({
  labels: v.optional(LabelsSchema),
  maxResults: v.optional(v.pipe(v.number('maxResults must be a number'), v.integer('maxResults must be whole'), v.minValue(1, 'maxResults must be at least 1'))),
  nextToken: v.optional(v.string('nextToken must be a string')),
  ...requestOptionEntries,
})

const PageSchema = v.object({
  data: v.pipe(
    v.optional(v.nullable(v.array(v.looseObject({ sessionId: v.string(), sessionStatus: v.optional(v.nullable(v.string())) }))), []),
    v.transform((items) => (items ?? []).map((s) => ({ id: s.sessionId, status: s.sessionStatus ?? '' }))),
  ),
  // Pagination fields (`nextToken`, `count`) are top-level siblings of `data`.
  nextToken: v.optional(v.nullable(v.string())),
  maxResults: v.optional(v.nullable(v.number())),
  count: v.optional(v.nullable(v.number())),
})

/** Options for {@link listSessions}. */
export interface ListSessionsOptions extends RequestOptions {
  /** Only sessions carrying all these labels. */
  labels?: Record<string, string>
  /** Page size. Default 10 (the service's). */
  maxResults?: number
  /** Continue from a previous page's `nextToken`. */
  nextToken?: string
}

/** A session as listed: its id and status. */
export interface SessionSummary {
  id: string
  status: string
}

/** One page of {@link listSessions}. */
export interface SessionPage {
  sessions: SessionSummary[]
  /** Pass to the next call to get the next page; absent on the last page. */
  nextToken?: string
  /** Total number of matching sessions, when the service says. */
  totalCount?: number
  requestId: string
}

async function page(client: Client, o: v.InferOutput<typeof ListSessionsOptionsSchema>, nextToken: string | undefined): Promise<SessionPage> {
  const envelope = await withDeadline('listSessions', o, clientOf(client).timeout, (call) => api(
    client,
    {
      method: 'GET',
      path: '/sdk/ListSession',
      idempotent: true,
      query: { maxResults: o.maxResults ?? 10, nextToken: nextToken || undefined, labels: JSON.stringify(o.labels ?? {}) },
    },
    call,
  ))
  const p = decode(PageSchema, { ...envelope.top, data: envelope.data }, envelope)
  return {
    sessions: p.data,
    ...(p.nextToken ? { nextToken: p.nextToken } : {}),
    ...(typeof p.count === 'number' ? { totalCount: p.count } : {}),
    requestId: envelope.requestId,
  }
}

/**
 * Lists sessions (`GET /sdk/ListSession`), optionally filtered by labels.
 *
 * Await it for one page (`nextToken` continues), or iterate it with `for await` to walk
 * every session across all pages. The `timeout` applies to each page request.
 *
 * @param client - The client.
 * @param options - `labels`, `maxResults`, `nextToken`, `signal`, `timeout`.
 * @returns A promise of the first (or `nextToken`) page that is also an async iterable of all sessions.
 * @throws AgbError `invalid_input` for blank labels; `unauthorized`, `timeout`, ...
 * @example
 * ```ts
 * for await (const { id } of listSessions(client, { labels: { team: 'a' } })) await deleteSession(client, id)
 * const { sessions, nextToken } = await listSessions(client, { maxResults: 50 })
 * ```
 */
export function listSessions(client: Client, options?: ListSessionsOptions): Promise<SessionPage> & AsyncIterable<SessionSummary> {
  let o: v.InferOutput<typeof ListSessionsOptionsSchema>
  let first: Promise<SessionPage>
  try {
    o = validate(ListSessionsOptionsSchema, options ?? {}, 'options')
    first = page(client, o, o.nextToken)
  } catch (error) {
    first = Promise.reject(error)
  }
  return Object.assign(first, {
    async *[Symbol.asyncIterator]() {
      let current = await first
      for (;;) {
        yield* current.sessions
        if (!current.nextToken) return
        current = await page(client, o, current.nextToken)
      }
    },
  })
}
