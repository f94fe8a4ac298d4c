/**
 * The embedded S3-compatible object store of an AGB Local (`local.oss`): the default endpoint
 * of the OSS tools and the storage of contexts. Buckets are directories under
 * `<dataDir>/storage/buckets`; the S3 API is served under `<origin>/oss/<bucket>/<key>`
 * (path-style) and every request must be signed with AWS Signature V4 using these credentials
 * (any region), or be a presigned URL.
 */
export interface LocalOss {
  /**
   * The S3 endpoint to give an S3 client or `oss_env_init`: `<origin>/oss`.
   * @param origin - Where the client reaches AGB Local: `server.url` for a served instance.
   *   Default `http://agb-local.internal`, which `local.fetch` answers and the OSS tools of
   *   every session route in process (no socket needed).
   */
  endpoint(origin?: string): string
  /** Access key id (`AKLOCAL…`), derived from the API key: stable across restarts. */
  readonly accessKeyId: string
  /** Secret access key, derived from the API key. */
  readonly accessKeySecret: string
  /** A bucket that always exists: `agb-local`. Create others with an S3 `PUT /oss/<bucket>`. */
  readonly bucket: string
  /** Region AGB Local signs with (`us-east-1`); the store accepts any. */
  readonly region: string
  /**
   * A presigned URL for one object: no credentials or headers needed to use it.
   * @param expiresSeconds - Validity, 1 to 604800. Default 3600.
   * @param origin - As for {@link LocalOss.endpoint}.
   * @example
   * const url = local.oss.presign('PUT', local.oss.bucket, 'inputs/data.csv', 600, server.url)
   * await fetch(url, { method: 'PUT', body: csv })
   */
  presign(method: 'GET' | 'PUT' | 'HEAD' | 'DELETE', bucket: string, key: string, expiresSeconds?: number, origin?: string): string
}
