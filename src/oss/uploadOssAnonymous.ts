import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { runTool } from '../_internal/runTool.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'

/**
 * Uploads a sandbox file to a URL with a plain HTTP PUT from inside the sandbox (tool
 * `oss_upload_annon`, sic), e.g. to a presigned object-storage URL. No credentials needed.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param url - HTTP(S) URL accepting a PUT (presigned).
 * @param path - Sandbox file to send.
 * @param options - `signal`, `timeout`.
 * @returns The tool's report.
 * @throws AgbError `tool_error` when the upload fails, ...
 * @example
 * ```ts
 * await uploadOssAnonymous(client, session, presignedPutUrl, '/home/user/report.pdf')
 * ```
 */
export async function uploadOssAnonymous(client: Client, session: SessionRef, url: string, path: string, options?: RequestOptions): Promise<string> {
  const args = { url: validate(nonEmpty('url'), url, 'url'), path: validate(nonEmpty('path'), path, 'path') }
  return (await runTool(client, session, 'uploadOssAnonymous', 'oss_upload_annon', args, options)).text
}
