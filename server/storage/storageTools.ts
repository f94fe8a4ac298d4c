import { posix } from 'node:path'
import { sandboxAbsolute } from '../sandbox/resolveSessionPath.ts'
import type { Session } from '../sessions/Session.ts'
import type { Tool, ToolContext } from '../tools/Tool.ts'
import { textResult } from '../tools/Tool.ts'
import { listSandboxFiles, openSandboxFile, sandboxKind, writeSandboxFile } from './sandboxFiles.ts'
import type { OutboundResponse } from './sendRequest.ts'
import { readText, sendRequest } from './sendRequest.ts'
import { signHeaders, uriEncode } from './sigV4.ts'
import { DEFAULT_REGION, INTERNAL_ORIGIN, OSS_PREFIX, storageFor } from './storageFor.ts'
import type { OssEnv, Storage } from './storageFor.ts'

function str(args: Record<string, unknown>, name: string): string {
  const v = args[name]
  if (typeof v !== 'string' || !v) throw new Error(`${name} is required (a non-empty string)`)
  return v
}

function optionalStr(args: Record<string, unknown>, name: string): string | undefined {
  const v = args[name]
  return typeof v === 'string' && v.trim() ? v.trim() : undefined
}

/** `oss-cn-hangzhou.aliyuncs.com` → `https://oss-cn-hangzhou.aliyuncs.com`; no trailing slash. */
function normalizeEndpoint(endpoint: string): string {
  const withScheme = /^https?:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`
  const url = new URL(withScheme)
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '')
}

function httpUrl(value: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Error(`url is not a valid URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`url must be http(s), got ${url.protocol}`)
  return url
}

/** `Upload failed: HTTP 403 SignatureDoesNotMatch: …` from an S3/OSS error document. */
async function failure(what: string, res: OutboundResponse): Promise<Error> {
  const text = await readText(res.body).catch(() => '')
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1]
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1]
  const detail = code ? `${code}: ${message ?? ''}` : text.replace(/\s+/g, ' ').trim().slice(0, 300)
  return new Error(`${what} failed: HTTP ${res.status}${detail ? ` ${detail}` : ''}`)
}

function env(s: Storage, session: Session): OssEnv {
  const e = s.ossEnv.get(session)
  if (!e) throw new Error('OSS environment is not initialized: call oss_env_init first')
  return e
}

function objectUrlAt(e: OssEnv, bucket: string, key: string): URL {
  return new URL(`${e.endpoint}/${uriEncode(bucket)}/${key.split('/').map(uriEncode).join('/')}`)
}

const credsOf = (e: OssEnv) => ({ accessKeyId: e.accessKeyId, secretAccessKey: e.accessKeySecret, sessionToken: e.securityToken, region: e.region })

/** PUTs one sandbox file, streamed; `sign` adds the auth headers (none for presigned URLs). */
async function putFile(s: Storage, session: Session, sandboxPath: string, url: URL, sign: (h: Record<string, string>) => Record<string, string>): Promise<void> {
  const { stream, size } = await openSandboxFile(session, sandboxPath)
  try {
    const res = await sendRequest(s, { method: 'PUT', url, headers: sign({ 'content-length': String(size) }), body: stream })
    if (res.status < 200 || res.status >= 300) throw await failure('Upload', res)
    res.body.resume()
  } finally {
    stream.destroy()
  }
}

/** GETs a URL into a sandbox file (into a directory: under the object's base name), streamed. */
async function getFile(s: Storage, session: Session, sandboxPath: string, url: URL, headers: Record<string, string>, name: string): Promise<void> {
  let target = sandboxAbsolute(sandboxPath)
  if ((await sandboxKind(session, target)) === 'directory') target = posix.join(target, safeName(posix.basename(name)))
  const res = await sendRequest(s, { method: 'GET', url, headers })
  if (res.status !== 200) throw await failure('Download', res)
  await writeSandboxFile(session, target, res.body)
}

function safeName(name: string): string {
  let decoded = name
  try {
    decoded = decodeURIComponent(name)
  } catch {}
  return decoded && decoded !== '.' && decoded !== '..' && !decoded.includes('/') ? decoded : 'download'
}

const schema = (properties: Record<string, unknown>, required: string[]) => ({ type: 'object', properties, required })
const STRING = { type: 'string' }

const ossEnvInitTool: Tool = {
  name: 'oss_env_init',
  description: 'Set the OSS/S3 credentials of this session (default endpoint: AGB Local\'s embedded store).',
  inputSchema: schema({ access_key_id: STRING, access_key_secret: STRING, security_token: { type: ['string', 'null'] }, endpoint: STRING, region: STRING }, ['access_key_id', 'access_key_secret']),
  async run(args, ctx: ToolContext) {
    const s = storageFor(ctx.config)
    const endpoint = optionalStr(args, 'endpoint')
    const token = optionalStr(args, 'security_token')
    s.ossEnv.set(ctx.session, {
      accessKeyId: str(args, 'access_key_id'),
      accessKeySecret: str(args, 'access_key_secret'),
      securityToken: token ?? null,
      endpoint: endpoint ? normalizeEndpoint(endpoint) : `${INTERNAL_ORIGIN}${OSS_PREFIX}`,
      region: optionalStr(args, 'region') ?? DEFAULT_REGION,
    })
    return textResult('OSS environment initialized')
  },
}

const ossUploadTool: Tool = {
  name: 'oss_upload',
  description: 'Upload a sandbox file (or every file of a directory, under object/) to a bucket (S3 PUT, AWS SigV4).',
  inputSchema: schema({ bucket: STRING, object: STRING, path: STRING }, ['bucket', 'object', 'path']),
  async run(args, ctx) {
    const s = storageFor(ctx.config)
    const e = env(s, ctx.session)
    const bucket = str(args, 'bucket')
    const object = str(args, 'object')
    const path = sandboxAbsolute(str(args, 'path'))
    const kind = await sandboxKind(ctx.session, path)
    if (kind === 'missing') throw new Error(`${path}: no such file or directory`)
    const files = kind === 'file' ? [[path, object]] : (await listSandboxFiles(ctx.session, path)).map((f) => [f, `${object.replace(/\/+$/, '')}/${posix.relative(path, f)}`])
    for (const [file, key] of files as Array<[string, string]>) {
      const url = objectUrlAt(e, bucket, key)
      await putFile(s, ctx.session, file, url, (h) => signHeaders('PUT', url, h, credsOf(e)))
    }
    return textResult('Upload success')
  },
}

const ossDownloadTool: Tool = {
  name: 'oss_download',
  description: 'Download an object of a bucket into a sandbox file (S3 GET, AWS SigV4).',
  inputSchema: schema({ bucket: STRING, object: STRING, path: STRING }, ['bucket', 'object', 'path']),
  async run(args, ctx) {
    const s = storageFor(ctx.config)
    const e = env(s, ctx.session)
    const object = str(args, 'object')
    const url = objectUrlAt(e, str(args, 'bucket'), object)
    await getFile(s, ctx.session, str(args, 'path'), url, signHeaders('GET', url, {}, credsOf(e)), object)
    return textResult('Download success')
  },
}

const ossUploadAnonTool: Tool = {
  name: 'oss_upload_annon',
  description: 'Upload a sandbox file with a plain HTTP PUT to a URL (e.g. a presigned upload URL).',
  inputSchema: schema({ url: STRING, path: STRING }, ['url', 'path']),
  async run(args, ctx) {
    const url = httpUrl(str(args, 'url'))
    await putFile(storageFor(ctx.config), ctx.session, str(args, 'path'), url, (h) => h)
    return textResult('Upload success')
  },
}

const ossDownloadAnonTool: Tool = {
  name: 'oss_download_annon',
  description: 'Download a URL (e.g. a presigned download URL) into a sandbox file with a plain HTTP GET.',
  inputSchema: schema({ url: STRING, path: STRING }, ['url', 'path']),
  async run(args, ctx) {
    const url = httpUrl(str(args, 'url'))
    await getFile(storageFor(ctx.config), ctx.session, str(args, 'path'), url, {}, url.pathname.slice(url.pathname.lastIndexOf('/') + 1))
    return textResult('Download success')
  },
}

/**
 * The seed-era OSS tools (PROTOCOL §5.4), run inside the session: paths are sandbox paths,
 * bodies stream between the sandbox file and the endpoint, failures are tool errors carrying
 * the store's status and S3 error code.
 */
export const storageTools: readonly Tool[] = [ossEnvInitTool, ossUploadTool, ossDownloadTool, ossUploadAnonTool, ossDownloadAnonTool]
