import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { runTool } from '../_internal/runTool.ts'
import { nonEmpty, requestOptionEntries, validate } from '../_internal/validate.ts'

const EditsSchema = v.pipe(
  v.array(v.object({ oldText: v.pipe(v.string('oldText must be a string'), v.nonEmpty('oldText must not be empty')), newText: v.string('newText must be a string') }), 'edits must be an array of { oldText, newText }'),
  v.nonEmpty('edits must not be empty'),
)

const EditFileOptionsSchema = v.object({ dryRun: v.optional(v.boolean('dryRun must be a boolean'), false), ...requestOptionEntries })

/** Options for {@link editFile}. */
export interface EditFileOptions extends RequestOptions {
  /** Only report what would change. Default `false`. */
  dryRun?: boolean
}

/**
 * Replaces text in a sandbox file (tool `edit_file`): each `oldText` is replaced by its
 * `newText`. A non-matching `oldText` leaves the file unchanged.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param path - Absolute sandbox path.
 * @param edits - `[{ oldText, newText }]`, applied in order.
 * @param options - `dryRun`, `signal`, `timeout`.
 * @returns The tool's report (a diff on services that give one).
 * @throws AgbError `tool_error`, `session_not_found`, ...
 * @example
 * ```ts
 * await editFile(client, session, '/home/user/app.py', [{ oldText: 'DEBUG = True', newText: 'DEBUG = False' }])
 * ```
 */
export async function editFile(
  client: Client,
  session: SessionRef,
  path: string,
  edits: { oldText: string; newText: string }[],
  options?: EditFileOptions,
): Promise<string> {
  const p = validate(nonEmpty('path'), path, 'path')
  const e = validate(EditsSchema, edits, 'edits')
  const o = validate(EditFileOptionsSchema, options ?? {}, 'options')
  return (await runTool(client, session, 'editFile', 'edit_file', { path: p, edits: e, dryRun: o.dryRun }, o)).text
}
