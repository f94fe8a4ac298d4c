import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { isAgbError } from '../errors.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { decode, jsonString } from '../_internal/decode.ts'
import { invokeTool, toolText } from '../_internal/invokeTool.ts'
import { sleep } from '../_internal/sleep.ts'
import { nonEmpty, optionalMs, requestOptionEntries, validate } from '../_internal/validate.ts'
import { clientOf } from '../_internal/check.ts'

const WatchDirOptionsSchema = v.object({ interval: optionalMs('interval'), ...requestOptionEntries })

/** Options for {@link watchDir}. */
export interface WatchDirOptions extends RequestOptions {
  /** Milliseconds between polls. Default 1000. */
  interval?: number
  /** Stops the watch: the iteration ends quietly. */
  signal?: AbortSignal
  /** Milliseconds each poll may take. Default: the client's timeout. */
  timeout?: number
}

// Both casings are seen (camelCase and PascalCase keys).
const EventsSchema = v.pipe(
  jsonString,
  v.array(
    v.pipe(
      v.looseObject({ eventType: v.optional(v.string()), EventType: v.optional(v.string()), path: v.optional(v.string()), Path: v.optional(v.string()), pathType: v.optional(v.string()), PathType: v.optional(v.string()) }),
      v.transform((e) => ({ type: e.eventType ?? e.EventType ?? '', path: e.path ?? e.Path ?? '', pathType: e.pathType ?? e.PathType ?? '' })),
    ),
  ),
)

/** A change under a watched directory: `type` is e.g. `create`, `modify`, `delete`; `pathType` `file` or `directory`. */
export type FileChangeEvent = v.InferOutput<typeof EventsSchema>[number]

/**
 * Watches a sandbox directory for changes by polling `get_file_change`. The first poll sets
 * the baseline; every later change is yielded as one event. End it with the `signal` (or
 * by breaking out of the loop).
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param path - Absolute sandbox directory.
 * @param options - `interval` (ms, default 1000), `signal`, `timeout` (per poll), `retry` (per poll).
 * @returns An async iterable of {@link FileChangeEvent}.
 * @throws AgbError from the iteration: `session_not_found` when the session ends, `tool_error`, ...
 * @example
 * ```ts
 * for await (const change of watchDir(client, session, '/home/user', { signal })) console.log(change.type, change.path)
 * ```
 */
export async function* watchDir(client: Client, session: SessionRef, path: string, options?: WatchDirOptions): AsyncGenerator<FileChangeEvent, void, undefined> {
  const p = validate(nonEmpty('path'), path, 'path')
  const o = validate(WatchDirOptionsSchema, options ?? {}, 'options')
  let baseline = true
  while (!o.signal?.aborted) {
    let events: FileChangeEvent[]
    try {
      // Each poll is one call with the caller's options: signal, timeout and retry alike.
      const output = await withDeadline('watchDir', o, clientOf(client).timeout, (call) => invokeTool(client, session, 'get_file_change', { path: p }, call))
      events = decode(EventsSchema, toolText(output, 'get_file_change') || '[]', { op: 'watchDir', route: 'POST /mcp get_file_change', requestId: output.requestId, status: 200 })
    } catch (error) {
      if (o.signal?.aborted && isAgbError(error, 'aborted')) return
      throw error
    }
    if (!baseline) yield* events
    baseline = false
    try {
      await sleep(o.interval ?? 1000, o.signal ?? new AbortController().signal)
    } catch {
      return
    }
  }
}
