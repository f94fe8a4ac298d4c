import { createHmac } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { LocalConfig } from '../config.ts'
import type { Session } from '../sessions/Session.ts'
import { createContextRegistry } from './contextRegistry.ts'
import type { ContextRegistry } from './contextRegistry.ts'
import { createObjectStore } from './objectStore.ts'
import type { ObjectStore } from './objectStore.ts'
import { presignUrl, uriEncode } from './sigV4.ts'
import type { SigV4Credentials } from './sigV4.ts'

/**
 * Origin that always means "this AGB Local": `local.fetch` answers it like any other origin,
 * and the OSS tools route requests to it (and to every origin clients reached AGB Local on)
 * into the handler in process, so the embedded store works without a socket.
 */
export const INTERNAL_ORIGIN = 'http://agb-local.internal'
/** Path prefix of the embedded S3 API. */
export const OSS_PREFIX = '/oss'
/** Bucket created at start for users (`local.oss.bucket`). */
export const DEFAULT_BUCKET = 'agb-local'
/** Bucket holding context files, keyed `<contextId><sandbox file path>`. */
export const CONTEXT_BUCKET = 'agb-context'
/** Region AGB Local signs with; the embedded store accepts any. */
export const DEFAULT_REGION = 'us-east-1'

/** Credentials `oss_env_init` stored for a session. */
export interface OssEnv {
  accessKeyId: string
  accessKeySecret: string
  securityToken: string | null
  /** Without trailing slash; path-style URLs are `<endpoint>/<bucket>/<key>`. */
  endpoint: string
  region: string
}

/** One SyncContext task (an item of GetContextInfo's `contextStatus`). */
export interface SyncTask {
  contextId: string
  /** As the client sent it (pollers compare it verbatim). */
  path: string
  status: 'InProgress' | 'Success' | 'Failed'
  taskType: 'upload' | 'download'
  /** Epoch seconds. */
  startTime: number
  finishTime: number
  errorMessage: string
}

/** A context mounted into a session by createSession's `persistenceDataList`. */
export interface Mount {
  contextId: string
  path: string
  autoUpload: boolean
  /**
   * `mappingPolicy.path`: where the context's data is stored (the path it was uploaded from,
   * e.g. by a session on another platform) when that differs from `path`, where it is mounted.
   */
  mappedFrom?: string
}

/** Storage state of one AGB Local (one per {@link LocalConfig}). */
export interface Storage {
  config: LocalConfig
  objects: ObjectStore
  contexts: ContextRegistry
  credentials: SigV4Credentials & { accessKeySecret: string }
  /** Origins served in process by the OSS tools (see {@link INTERNAL_ORIGIN}). */
  selfOrigins: Set<string>
  /** Set by `attachStorage`: the full AGB Local handler, for in-process requests. */
  handler?: (req: Request) => Promise<Response>
  /** Sync tasks by session id. */
  tasks: Map<string, SyncTask[]>
  /** Mounted contexts by session id. */
  mounts: Map<string, Mount[]>
  ossEnv: WeakMap<Session, OssEnv>
  /** Presigned URL of an embedded-store object under `origin`. */
  presign(method: string, bucket: string, key: string, expiresSeconds: number, origin?: string): string
}

const states = new WeakMap<LocalConfig, Storage>()

function derive(apiKey: string, label: string): Buffer {
  return createHmac('sha256', apiKey).update(`agb-local/oss/${label}`).digest()
}

/** `<origin>/oss/<bucket>/<key>` with the key's segments percent-encoded. */
export function objectUrl(origin: string, bucket: string, key: string): URL {
  return new URL(`${origin}${OSS_PREFIX}/${uriEncode(bucket)}/${key.split('/').map(uriEncode).join('/')}`)
}

/**
 * The storage state of an AGB Local, created on first use: the object store under
 * `<dataDir>/storage` (kept across restarts when the data dir is the caller's), the context
 * registry, and the store credentials, derived from the API key (HMAC-SHA256) so presigned
 * URLs stay valid across restarts with the same key and reveal nothing about it.
 */
export function storageFor(config: LocalConfig): Storage {
  let state = states.get(config)
  if (state) return state
  const dir = join(config.dataDir, 'storage')
  const objects = createObjectStore(join(dir, 'buckets'))
  for (const bucket of [DEFAULT_BUCKET, CONTEXT_BUCKET]) mkdirSync(join(objects.dir, bucket), { recursive: true })
  const secret = derive(config.apiKey, 'secret').toString('base64url').slice(0, 40)
  const credentials = {
    accessKeyId: `AKLOCAL${derive(config.apiKey, 'id').toString('hex').slice(0, 13).toUpperCase()}`,
    secretAccessKey: secret,
    accessKeySecret: secret,
    region: DEFAULT_REGION,
  }
  state = {
    config,
    objects,
    contexts: createContextRegistry(join(dir, 'contexts.json')),
    credentials,
    selfOrigins: new Set([INTERNAL_ORIGIN]),
    tasks: new Map(),
    mounts: new Map(),
    ossEnv: new WeakMap(),
    presign: (method, bucket, key, expiresSeconds, origin = INTERNAL_ORIGIN) =>
      presignUrl(method, objectUrl(origin, bucket, key), credentials, expiresSeconds),
  }
  states.set(config, state)
  return state
}
