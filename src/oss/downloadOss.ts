import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { runTool } from '../_internal/runTool.ts'
import { ossObject } from '../_internal/ossObject.ts'
import type { OssObject } from './uploadOss.ts'

/**
 * Downloads an object from object storage into the sandbox (tool `oss_download`, seed-era
 * API). Call `ossEnvInit` first in the same session.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param source - `{ bucket, object, path }`: `path` is where the file lands in the sandbox.
 * @param options - `signal`, `timeout`.
 * @returns The tool's report.
 * @throws AgbError `tool_error` (missing credentials, no such object), ...
 * @example
 * ```ts
 * await downloadOss(client, session, { bucket: 'inputs', object: 'data.csv', path: '/home/user/data.csv' })
 * ```
 */
export async function downloadOss(client: Client, session: SessionRef, source: OssObject, options?: RequestOptions): Promise<string> {
  const s = ossObject(source, 'source')
  return (await runTool(client, session, 'downloadOss', 'oss_download', s, options)).text
}
