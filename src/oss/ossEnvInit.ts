import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { runTool } from '../_internal/runTool.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'

const CredentialsSchema = v.object({
  accessKeyId: nonEmpty('accessKeyId'),
  accessKeySecret: nonEmpty('accessKeySecret'),
  securityToken: v.optional(v.string('securityToken must be a string')),
  endpoint: v.optional(nonEmpty('endpoint')),
  region: v.optional(nonEmpty('region')),
})

/** Object-storage credentials for {@link ossEnvInit}. STS (temporary) credentials are recommended. */
export interface OssCredentials {
  accessKeyId: string
  accessKeySecret: string
  /** STS security token. */
  securityToken?: string
  /** OSS / S3-compatible endpoint URL. */
  endpoint?: string
  /** Region, e.g. `cn-hangzhou`. */
  region?: string
}

/**
 * Configures object-storage credentials inside the session (tool `oss_env_init`, seed-era
 * API). Call once per session before `uploadOss` / `downloadOss`. The credentials go into
 * the sandbox; they are never logged or put in error messages by this SDK.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param credentials - `accessKeyId`, `accessKeySecret`, optional `securityToken`, `endpoint`, `region`.
 * @param options - `signal`, `timeout`.
 * @returns The tool's report.
 * @throws AgbError `invalid_input` for missing keys; `tool_error` (e.g. the image has no OSS tools), ...
 * @example
 * ```ts
 * await ossEnvInit(client, session, { accessKeyId, accessKeySecret, securityToken, endpoint, region })
 * ```
 */
export async function ossEnvInit(client: Client, session: SessionRef, credentials: OssCredentials, options?: RequestOptions): Promise<string> {
  const c = validate(CredentialsSchema, credentials, 'credentials')
  // `security_token` is always present (null when absent); endpoint/region only when given.
  const args: Record<string, unknown> = { access_key_id: c.accessKeyId, access_key_secret: c.accessKeySecret, security_token: c.securityToken ?? null }
  if (c.endpoint) args.endpoint = c.endpoint
  if (c.region) args.region = c.region
  return (await runTool(client, session, 'ossEnvInit', 'oss_env_init', args, options)).text
}
