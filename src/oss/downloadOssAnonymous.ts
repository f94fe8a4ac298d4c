import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { runTool } from '../_internal/runTool.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'

/**
 * Downloads a URL into a sandbox file with a plain HTTP GET from inside the sandbox (tool
 * `oss_download_annon`, sic), e.g. from a presigned object-storage URL.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param url - HTTP(S) URL to GET.
 * @param path - Sandbox file to write.
 * @param options - `signal`, `timeout`.
 * @returns The tool's report.
 * @throws AgbError `tool_error` when the download fails, ...
 * @example
 * ```ts
 * await downloadOssAnonymous(client, session, 'https://example.com/data.csv', '/home/user/data.csv')
 * ```
 */
export async function downloadOssAnonymous(client: Client, session: SessionRef, url: string, path: string, options?: RequestOptions): Promise<string> {
  const args = { url: validate(nonEmpty('url'), url, 'url'), path: validate(nonEmpty('path'), path, 'path') }
  return (await runTool(client, session, 'downloadOssAnonymous', 'oss_download_annon', args, options)).text
}
