import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

/** `x-amz-content-sha256` value for a body that is not part of the signature. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'
/** Longest presigned URL validity S3 accepts (7 days). */
export const MAX_PRESIGN_SECONDS = 604_800
/** Largest clock difference accepted for header-signed requests. */
const MAX_SKEW_MS = 15 * 60 * 1000
const ALGORITHM = 'AWS4-HMAC-SHA256'

/** Credentials a request is signed with. */
export interface SigV4Credentials {
  accessKeyId: string
  secretAccessKey: string
  /** STS token, sent (and signed) as `x-amz-security-token`. */
  sessionToken?: string | null
  /** Any region works with the embedded store; real S3 wants the bucket's. */
  region: string
}

/** Outcome of {@link verifySigV4}: the key that signed, or the S3 error to answer. */
export type SigV4Verdict =
  | { ok: true; accessKeyId: string; payloadHash: string }
  | { ok: false; status: number; code: string; message: string }

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest()

/** RFC 3986 percent-encoding as SigV4 wants it: only `A-Z a-z 0-9 - _ . ~` stay as they are. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** The canonical URI: each path segment decoded once and encoded once (S3 does not double-encode). */
export function canonicalUri(pathname: string): string {
  return pathname.split('/').map((s) => uriEncode(safeDecode(s))).join('/') || '/'
}

function canonicalQuery(params: Iterable<[string, string]>, skip?: string): string {
  const pairs: Array<[string, string]> = []
  for (const [k, v] of params) if (k !== skip) pairs.push([uriEncode(k), uriEncode(v)])
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
  return pairs.map(([k, v]) => `${k}=${v}`).join('&')
}

const trimValue = (v: string) => v.trim().replace(/\s+/g, ' ')

/** `YYYYMMDDTHHMMSSZ`. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
}

function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : Number.NaN
}

function signature(secret: string, scope: string[], stringToSign: string): string {
  const [date, region, service] = scope
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), service!), 'aws4_request')
  return createHmac('sha256', key).update(stringToSign).digest('hex')
}

function stringToSign(time: string, scope: string[], canonicalRequest: string): string {
  return [ALGORITHM, time, scope.join('/'), sha256Hex(canonicalRequest)].join('\n')
}

function canonicalRequest(method: string, url: URL, query: string, headers: Array<[string, string]>, payloadHash: string): string {
  const names = headers.map(([k]) => k).join(';')
  const block = headers.map(([k, v]) => `${k}:${trimValue(v)}\n`).join('')
  return [method, canonicalUri(url.pathname), query, block, names, payloadHash].join('\n')
}

/**
 * Signs a request with the `Authorization` header (AWS Signature Version 4, service `s3`).
 * @param method - HTTP method.
 * @param url - The full URL (path-style: `<endpoint>/<bucket>/<key>`).
 * @param headers - Extra headers to sign (lower-case names), e.g. `content-length`.
 * @param creds - Access key, secret, optional STS token, region.
 * @param payloadHash - Hex SHA-256 of the body, or {@link UNSIGNED_PAYLOAD} (streamed bodies).
 * @returns Every header to send: the given ones plus `host`, `x-amz-date`,
 *   `x-amz-content-sha256`, `x-amz-security-token` (with a token) and `authorization`.
 * @example
 * const h = signHeaders('GET', new URL('http://127.0.0.1:9000/bucket/key'), {}, creds)
 */
export function signHeaders(
  method: string,
  url: URL,
  headers: Record<string, string>,
  creds: SigV4Credentials,
  payloadHash = UNSIGNED_PAYLOAD,
  now = new Date(),
): Record<string, string> {
  const time = amzDate(now)
  const scope = [time.slice(0, 8), creds.region, 's3', 'aws4_request']
  const all: Record<string, string> = { ...headers, host: url.host, 'x-amz-date': time, 'x-amz-content-sha256': payloadHash }
  if (creds.sessionToken) all['x-amz-security-token'] = creds.sessionToken
  const signed = Object.entries(all).map(([k, v]): [string, string] => [k.toLowerCase(), v]).sort((a, b) => (a[0] < b[0] ? -1 : 1))
  const creq = canonicalRequest(method, url, canonicalQuery(url.searchParams), signed, payloadHash)
  const sig = signature(creds.secretAccessKey, scope, stringToSign(time, scope, creq))
  all.authorization = `${ALGORITHM} Credential=${creds.accessKeyId}/${scope.join('/')}, SignedHeaders=${signed.map(([k]) => k).join(';')}, Signature=${sig}`
  return all
}

/**
 * A presigned URL (SigV4 query signing, only `host` signed, `UNSIGNED-PAYLOAD`): whoever holds
 * it may do `method` on that one object until it expires, with no credentials and no extra headers.
 * @param expiresSeconds - Validity, 1 to 604800.
 * @returns The URL with `X-Amz-Algorithm/Credential/Date/Expires/SignedHeaders/Signature`.
 */
export function presignUrl(method: string, url: URL, creds: SigV4Credentials, expiresSeconds: number, now = new Date()): string {
  const time = amzDate(now)
  const scope = [time.slice(0, 8), creds.region, 's3', 'aws4_request']
  const signedUrl = new URL(url)
  const q = signedUrl.searchParams
  q.set('X-Amz-Algorithm', ALGORITHM)
  q.set('X-Amz-Credential', `${creds.accessKeyId}/${scope.join('/')}`)
  q.set('X-Amz-Date', time)
  q.set('X-Amz-Expires', String(Math.trunc(expiresSeconds)))
  if (creds.sessionToken) q.set('X-Amz-Security-Token', creds.sessionToken)
  q.set('X-Amz-SignedHeaders', 'host')
  const creq = canonicalRequest(method, signedUrl, canonicalQuery(q), [['host', url.host]], UNSIGNED_PAYLOAD)
  q.set('X-Amz-Signature', signature(creds.secretAccessKey, scope, stringToSign(time, scope, creq)))
  // URLSearchParams writes spaces as '+'; SigV4 (and S3) read '%20'.
  signedUrl.search = signedUrl.search.replaceAll('+', '%20')
  return signedUrl.toString()
}

function deny(code: string, message: string, status = 403): SigV4Verdict {
  return { ok: false, status, code, message }
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** What {@link verifySigV4} reads from a request. */
export interface SignedRequest {
  method: string
  url: URL
  headers: Headers
}

/**
 * Verifies an S3 request signed with SigV4, either in the `Authorization` header or in the
 * query (presigned URL, with expiry). The region in the credential scope is taken as signed.
 * @param lookupSecret - The secret of an access key id, `undefined` for unknown keys.
 * @returns `{ok:true, accessKeyId, payloadHash}` (the caller checks a hex payload hash against
 *   the body), or the S3 error code/status/message to answer.
 */
export function verifySigV4(req: SignedRequest, lookupSecret: (accessKeyId: string) => string | undefined, now = Date.now()): SigV4Verdict {
  const q = req.url.searchParams
  const header = req.headers.get('authorization')
  const presigned = q.has('X-Amz-Algorithm') || q.has('X-Amz-Signature')
  if (header && presigned) return deny('InvalidArgument', 'Only one auth mechanism allowed', 400)
  let credential: string, signedNames: string, given: string, time: string, payloadHash: string
  let expiresMs: number | undefined
  if (presigned) {
    if (q.get('X-Amz-Algorithm') !== ALGORITHM) return deny('AuthorizationQueryParametersError', `X-Amz-Algorithm only supports "${ALGORITHM}"`, 400)
    const missing = ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'].filter((k) => !q.get(k))
    if (missing.length) return deny('AuthorizationQueryParametersError', `Query-string authentication requires ${missing.join(', ')}`, 400)
    credential = q.get('X-Amz-Credential')!
    signedNames = q.get('X-Amz-SignedHeaders')!
    given = q.get('X-Amz-Signature')!
    time = q.get('X-Amz-Date')!
    const expires = Number(q.get('X-Amz-Expires'))
    if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_SECONDS) {
      return deny('AuthorizationQueryParametersError', `X-Amz-Expires must be an integer between 1 and ${MAX_PRESIGN_SECONDS}`, 400)
    }
    expiresMs = expires * 1000
    payloadHash = UNSIGNED_PAYLOAD
  } else if (header) {
    const m = /^AWS4-HMAC-SHA256\s+(.*)$/.exec(header)
    if (!m) return deny('InvalidArgument', 'Unsupported Authorization Type (only AWS4-HMAC-SHA256)', 400)
    const parts = new Map(m[1]!.split(',').map((p) => p.trim().split('=', 2) as [string, string]))
    if (!parts.get('Credential') || !parts.get('SignedHeaders') || !parts.get('Signature')) {
      return deny('AuthorizationHeaderMalformed', 'The authorization header requires Credential, SignedHeaders and Signature', 400)
    }
    credential = parts.get('Credential')!
    signedNames = parts.get('SignedHeaders')!
    given = parts.get('Signature')!
    time = req.headers.get('x-amz-date') ?? ''
    const hash = req.headers.get('x-amz-content-sha256')
    if (!hash) return deny('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256', 400)
    if (hash.startsWith('STREAMING-')) return deny('NotImplemented', 'aws-chunked (streaming) payload signing is not supported; use UNSIGNED-PAYLOAD', 501)
    if (hash !== UNSIGNED_PAYLOAD && !/^[0-9a-f]{64}$/.test(hash)) return deny('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a sha256 hex value', 400)
    payloadHash = hash
  } else {
    return deny('AccessDenied', 'Access Denied: the request is not signed')
  }
  const scope = credential.split('/')
  if (scope.length !== 5 || scope[3] !== 's3' || scope[4] !== 'aws4_request') {
    return deny('AuthorizationHeaderMalformed', `Invalid credential scope: expected <key>/<date>/<region>/s3/aws4_request`, 400)
  }
  const [accessKeyId, ...scopeRest] = scope as [string, ...string[]]
  const secret = lookupSecret(accessKeyId)
  if (secret === undefined) return deny('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.')
  const signedAt = parseAmzDate(time)
  if (Number.isNaN(signedAt)) return deny('AccessDenied', 'AWS authentication requires a valid X-Amz-Date')
  if (time.slice(0, 8) !== scopeRest[0]) return deny('SignatureDoesNotMatch', 'The credential scope date does not match X-Amz-Date')
  const names = signedNames.split(';')
  if (!names.includes('host')) return deny('AccessDenied', 'host must be a signed header')
  const headers = names.map((name): [string, string] => [name, name === 'host' ? (req.headers.get('host') ?? req.url.host) : (req.headers.get(name) ?? '')])
  const creq = canonicalRequest(req.method, req.url, canonicalQuery(q, presigned ? 'X-Amz-Signature' : undefined), headers, payloadHash)
  const expected = signature(secret, scopeRest.slice(0, 3), stringToSign(time, scopeRest, creq))
  if (!sameHex(expected, given.toLowerCase())) {
    return deny('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.')
  }
  if (expiresMs !== undefined) {
    if (now > signedAt + expiresMs) return deny('AccessDenied', 'Request has expired')
    if (signedAt - now > MAX_SKEW_MS) return deny('AccessDenied', 'Request is not valid yet')
  } else if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
    return deny('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.')
  }
  return { ok: true, accessKeyId, payloadHash }
}
