import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { runTool } from '../_internal/runTool.ts'
import { ossObject } from '../_internal/ossObject.ts'

/** Where an OSS transfer goes: bucket, object key and the sandbox path. */
export interface OssObject {
  bucket: string
  /** The object key in the bucket. */
  object: string
  /** Sandbox file (or directory, for uploads). */
  path: string
}

/**
 * Uploads a sandbox file to object storage (tool `oss_upload`, seed-era API). Call
 * `ossEnvInit` first in the same session.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param target - `{ bucket, object, path }`: `path` is the sandbox file to send.
 * @param options - `signal`, `timeout`.
 * @returns The tool's report.
 * @throws AgbError `tool_error` (missing credentials, no such file, refused by the store), ...
 * @example
 * ```ts
 * await uploadOss(client, session, { bucket: 'results', object: 'run-1/out.csv', path: '/home/user/out.csv' })
 * ```
 */
export async function uploadOss(client: Client, session: SessionRef, target: OssObject, options?: RequestOptions): Promise<string> {
  const t = ossObject(target)
  return (await runTool(client, session, 'uploadOss', 'oss_upload', t, options)).text
}
