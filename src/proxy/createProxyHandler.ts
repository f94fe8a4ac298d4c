import * as v from 'valibot'
import { createClient, type WebSocketConstructor } from '../client.ts'
import { isAgbError } from '../errors.ts'
import type { FetchLike } from '../types.ts'
import { streamCode } from '../code/streamCode.ts'
import { LabelsSchema } from '../_internal/labels.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'

/**
 * What a proxy may let a browser do. `sessions` covers create, get, status, list, delete,
 * keep-alive, labels, info, link, tools and metrics.
 */
export type ProxyPermission = 'sessions' | 'runCode' | 'streamCode' | 'exec' | 'readFiles' | 'writeFiles' | 'transfer' | 'oss' | 'callTool'

const PERMISSIONS = ['sessions', 'runCode', 'streamCode', 'exec', 'readFiles', 'writeFiles', 'transfer', 'oss', 'callTool'] as const

const ProxyOptionsSchema = v.object({
  apiKey: nonEmpty('apiKey'),
  endpoint: v.optional(nonEmpty('endpoint')),
  fetch: v.optional(v.custom<FetchLike>((f) => typeof f === 'function', 'fetch must be a function')),
  webSocket: v.optional(v.custom<WebSocketConstructor>((f) => typeof f === 'function', 'webSocket must be a constructor')),
  allow: v.optional(v.array(v.picklist(PERMISSIONS, `allow entries must be one of ${PERMISSIONS.join(', ')}`))),
  imageIds: v.optional(v.array(nonEmpty('imageIds entry'))),
  maxSessions: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1, 'maxSessions must be at least 1'))),
  name: v.optional(v.pipe(nonEmpty('name'), v.regex(/^[\w.-]+$/, 'name may use letters, digits, _ . -'))),
  basePath: v.optional(v.pipe(v.string(), v.regex(/^(\/[\w.-]+)*$/, 'basePath must look like /agb'))),
  origins: v.optional(v.union([v.literal('*'), v.array(nonEmpty('origin'))])),
  labels: v.optional(LabelsSchema),
})

/** Options for {@link createProxyHandler}. */
export interface ProxyOptions {
  /** Your AGB API key. It stays on the server: browsers never see it. */
  apiKey: string
  /** Upstream AGB endpoint. Default `https://sdk-api.agb.cloud`. */
  endpoint?: string
  /** `fetch` for upstream calls. Default: the global one. */
  fetch?: FetchLike
  /** WebSocket constructor for streaming upstream (Node 20: `ws`). Default: the global one. */
  webSocket?: WebSocketConstructor
  /** What browsers may do. Default `['sessions', 'runCode', 'streamCode', 'exec', 'readFiles', 'writeFiles']`. */
  allow?: ProxyPermission[]
  /** Images browsers may start. Default: any. */
  imageIds?: string[]
  /** Most sessions alive at once through this proxy (counted by its label). Default: no limit. */
  maxSessions?: number
  /** Name of this proxy, in the `agb-micro-proxy` label of its sessions. Default `default`. */
  name?: string
  /** Path the handler is mounted under, e.g. `/agb`. Default `''`. */
  basePath?: string
  /** Origins allowed by CORS (`'*'` for any). Default: none (same-origin pages only). */
  origins?: '*' | string[]
  /** Labels added to every session created through the proxy. */
  labels?: Record<string, string>
}

/** Label marking sessions created through a proxy; its value is the proxy's `name`. */
export const PROXY_LABEL = 'agb-micro-proxy'

type Route = { permission: ProxyPermission; session?: 'body' | 'query'; context?: boolean }

const ROUTES: Record<string, Route> = {
  'POST /mcp/createSession': { permission: 'sessions' },
  'POST /mcp/getSession': { permission: 'sessions', session: 'body' },
  'POST /mcp/getSessionInfo': { permission: 'sessions', session: 'body' },
  'POST /mcp/releaseSessionAsync': { permission: 'sessions', session: 'body' },
  'POST /mcp/releaseSession': { permission: 'sessions', session: 'body' },
  'POST /mcp/getMcpResource': { permission: 'sessions', session: 'body' },
  'POST /mcp/refreshSessionIdleTime': { permission: 'sessions', session: 'query' },
  'POST /sdk/SetLabel': { permission: 'sessions', session: 'query' },
  'GET /sdk/GetLabel': { permission: 'sessions', session: 'query' },
  'GET /sdk/ListSession': { permission: 'sessions' },
  'GET /internet/getLink': { permission: 'sessions', session: 'query' },
  'POST /mcp/listTools': { permission: 'sessions' },
  'POST /mcp': { permission: 'callTool', session: 'body' },
  'POST /sdk/GetAndLoadInternalContext': { permission: 'transfer', session: 'query' },
  'POST /sdk/SyncContext': { permission: 'transfer', session: 'query', context: true },
  'GET /sdk/GetContextInfo': { permission: 'transfer', session: 'query', context: true },
  'POST /sdk/GetContextFileUploadUrl': { permission: 'transfer', context: true },
  'POST /sdk/GetContextFileDownloadUrl': { permission: 'transfer', context: true },
  'POST /sdk/DeleteContextFile': { permission: 'transfer', context: true },
}

const TOOL_PERMISSIONS: Record<string, ProxyPermission> = {
  run_code: 'runCode',
  shell: 'exec',
  get_metrics: 'sessions',
  read_file: 'readFiles',
  get_file_info: 'readFiles',
  list_directory: 'readFiles',
  search_files: 'readFiles',
  read_multiple_files: 'readFiles',
  get_file_change: 'readFiles',
  write_file: 'writeFiles',
  create_directory: 'writeFiles',
  move_file: 'writeFiles',
  delete_file: 'writeFiles',
  edit_file: 'writeFiles',
  oss_env_init: 'oss',
  oss_upload: 'oss',
  oss_download: 'oss',
  oss_upload_annon: 'oss',
  oss_download_annon: 'oss',
}

const STREAM_PATH = '/agb-micro/stream'

type Json = Record<string, unknown>
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x)

/**
 * A browser-safe AGB proxy: a web-standard `(Request) => Promise<Response>` for Workers,
 * Deno, Bun, Node (via a web adapter) and frameworks. Browsers create their client with
 * `createClient({ endpoint: '<proxy url>', proxy: true })` and no key; the proxy adds the
 * key, allows only the configured operations and images, lets a browser touch only
 * sessions created through it (their ids are signed), strips session tokens, and turns
 * `streamCode` into a fetch stream (NDJSON) browsers can read.
 *
 * @param options - `apiKey` (required), `endpoint`, `allow`, `imageIds`, `maxSessions`, `origins`, `basePath`, `name`, `labels`, `fetch`, `webSocket`.
 * @returns The request handler.
 * @throws AgbError `invalid_input` for bad options.
 * @example
 * ```ts
 * const proxy = createProxyHandler({ apiKey: env.AGB_API_KEY, imageIds: ['agb-code-space-1'], maxSessions: 5, origins: ['https://app.example'] })
 * export default { fetch: proxy }
 * ```
 */
export function createProxyHandler(options: ProxyOptions): (request: Request) => Promise<Response> {
  const o = validate(ProxyOptionsSchema, options, 'options')
  const upstream = createClient({ apiKey: o.apiKey, ...(o.endpoint ? { endpoint: o.endpoint } : {}), ...(o.fetch ? { fetch: o.fetch } : {}), ...(o.webSocket ? { webSocket: o.webSocket } : {}) })
  const allow = new Set<ProxyPermission>(o.allow ?? ['sessions', 'runCode', 'streamCode', 'exec', 'readFiles', 'writeFiles'])
  const name = o.name ?? 'default'
  const base = o.basePath ?? ''
  const keyPromise = crypto.subtle.importKey('raw', new TextEncoder().encode(`agb-micro-proxy:${o.apiKey}`), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])

  const mac = async (id: string) => {
    const sig = new Uint8Array(await crypto.subtle.sign('HMAC', await keyPromise, new TextEncoder().encode(id)))
    return btoa(String.fromCharCode(...sig.subarray(0, 12))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  }
  /** Ids handed to browsers carry a signature: `<id>~<sig>`. */
  const sign = async (id: string) => `${id}~${await mac(id)}`
  const verify = async (signed: unknown): Promise<string | undefined> => {
    if (typeof signed !== 'string') return undefined
    const at = signed.lastIndexOf('~')
    if (at <= 0) return undefined
    const id = signed.slice(0, at)
    return (await mac(id)) === signed.slice(at + 1) ? id : undefined
  }

  const cors = (request: Request): Record<string, string> => {
    const origin = request.headers.get('origin')
    if (!origin || !o.origins || (o.origins !== '*' && !o.origins.includes(origin))) return {}
    return {
      'access-control-allow-origin': o.origins === '*' ? '*' : origin,
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'content-type',
      'access-control-expose-headers': 'x-request-id',
      vary: 'origin',
    }
  }
  const reply = (request: Request, status: number, body: Json) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...cors(request) } })
  const refuse = (request: Request, status: number, code: string, message: string) =>
    reply(request, status, { success: false, code, message, httpStatusCode: status, requestId: '' })

  const upstreamJson = async (method: string, path: string, query: URLSearchParams, body: Json | undefined, signal: AbortSignal) => {
    const url = `${upstream.endpoint}${path}${query.size ? `?${query}` : ''}`
    const response = await (upstream.fetch ?? globalThis.fetch)(url, {
      method,
      headers: { authorization: `Bearer ${o.apiKey}`, 'content-type': 'application/json' },
      ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
      signal,
    })
    const text = await response.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { response, text, json }
  }

  const liveSessions = async (signal: AbortSignal) => {
    const { json } = await upstreamJson('GET', '/sdk/ListSession', new URLSearchParams({ maxResults: '100', labels: JSON.stringify({ [PROXY_LABEL]: name }) }), undefined, signal)
    if (!isObject(json)) return 0
    return typeof json.count === 'number' ? json.count : Array.isArray(json.data) ? json.data.length : 0
  }

  /** Rewrites ids in an answer so the browser only ever holds signed ones, and drops tokens. */
  const rewrite = async (path: string, json: Json) => {
    const data = json.data
    if (isObject(data)) {
      if (typeof data.sessionId === 'string') data.sessionId = await sign(data.sessionId)
      for (const secret of ['token', 'Token', 'linkUrl', 'LinkUrl', 'wsUrl', 'WsUrl']) delete data[secret]
      if (typeof data.contextStatus === 'string') data.contextStatus = await signContextStatus(data.contextStatus)
    } else if (Array.isArray(data)) {
      for (const item of data) {
        if (!isObject(item)) continue
        if (typeof item.sessionId === 'string') item.sessionId = await sign(item.sessionId)
        if (path === '/sdk/GetAndLoadInternalContext' && typeof item.contextId === 'string') item.contextId = await sign(item.contextId)
      }
    }
    return json
  }
  const signContextStatus = async (status: string) => {
    try {
      const groups = JSON.parse(status) as Json[]
      for (const g of groups) {
        const items = typeof g.data === 'string' ? (JSON.parse(g.data) as Json[]) : []
        for (const item of items) if (typeof item.contextId === 'string') item.contextId = await sign(item.contextId)
        if (typeof g.data === 'string') g.data = JSON.stringify(items)
      }
      return JSON.stringify(groups)
    } catch {
      return status
    }
  }

  return async function proxy(request: Request): Promise<Response> {
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: cors(request) })
    const url = new URL(request.url)
    if (!url.pathname.startsWith(base)) return refuse(request, 404, 'NotFound', 'no such route')
    const path = url.pathname.slice(base.length) || '/'
    let body: Json | undefined
    if (request.method === 'POST') {
      try {
        const parsed = JSON.parse((await request.text()) || '{}') as unknown
        body = isObject(parsed) ? parsed : undefined
      } catch {
        body = undefined
      }
      if (!body) return refuse(request, 400, 'InvalidParameter', 'the body must be a JSON object')
    }
    const signal = request.signal

    if (path === STREAM_PATH && request.method === 'POST') {
      if (!allow.has('streamCode')) return refuse(request, 403, 'Forbidden', 'streamCode is not allowed by this proxy')
      const id = await verify(body!.sessionId)
      if (!id) return refuse(request, 403, 'Forbidden', 'unknown session: it was not created through this proxy')
      const events = streamCode(upstream, id, String(body!.code ?? ''), {
        language: typeof body!.language === 'string' ? body!.language : 'python',
        ...(typeof body!.timeout === 'number' ? { timeout: body!.timeout } : {}),
        signal,
      })
      const encoder = new TextEncoder()
      const ndjson = events.pipeThrough(
        new TransformStream({
          transform: (event, controller) => controller.enqueue(encoder.encode(`${JSON.stringify(event)}\n`)),
        }),
      )
      // A failure mid-stream becomes a last line the client turns into the same AgbError.
      const out = new ReadableStream<Uint8Array>({
        async start(controller) {
          const reader = ndjson.getReader()
          try {
            for (;;) {
              const { done, value } = await reader.read()
              if (done) break
              controller.enqueue(value)
            }
          } catch (error) {
            const code = isAgbError(error) ? error.code : 'network'
            const message = error instanceof Error ? error.message : String(error)
            controller.enqueue(encoder.encode(`${JSON.stringify({ type: 'failure', code, message })}\n`))
          }
          controller.close()
        },
        cancel: (reason) => ndjson.cancel(reason),
      })
      return new Response(out, { headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', ...cors(request) } })
    }

    const route = ROUTES[`${request.method} ${path}`]
    if (!route) return refuse(request, 404, 'NotFound', `no such route: ${request.method} ${path}`)
    let permission = route.permission
    if (path === '/mcp') {
      const tool = typeof body!.name === 'string' ? body!.name : ''
      permission = TOOL_PERMISSIONS[tool] ?? 'callTool'
      if (permission === 'callTool' && !allow.has('callTool')) return refuse(request, 403, 'Forbidden', `tool ${tool || '(none)'} is not allowed by this proxy`)
    }
    if (!allow.has(permission)) return refuse(request, 403, 'Forbidden', `${permission} is not allowed by this proxy`)

    const query = new URLSearchParams(url.search)
    // Every session and context id must be one this proxy signed.
    if (route.session === 'body' && body!.sessionId !== undefined) {
      const id = await verify(body!.sessionId)
      if (!id) return refuse(request, 403, 'Forbidden', 'unknown session: it was not created through this proxy')
      body!.sessionId = id
    }
    if (route.session === 'query' || route.context) {
      for (const key of ['sessionId', 'contextId'] as const) {
        if (!query.has(key)) continue
        const id = await verify(query.get(key))
        if (!id) return refuse(request, 403, 'Forbidden', `unknown ${key === 'sessionId' ? 'session' : 'context'}: not handed out by this proxy`)
        query.set(key, id)
      }
    }

    if (path === '/mcp/createSession') {
      const image = query.get('imageId') ?? ''
      if (o.imageIds && !o.imageIds.includes(image)) return refuse(request, 403, 'Forbidden', `image ${image || '(none)'} is not allowed by this proxy`)
      if (o.maxSessions !== undefined && (await liveSessions(signal)) >= o.maxSessions) {
        return refuse(request, 429, 'Throttling.SessionLimit', `this proxy allows at most ${o.maxSessions} live sessions`)
      }
      let labels: Json = {}
      try {
        labels = typeof body!.labels === 'string' ? (JSON.parse(body!.labels) as Json) : {}
      } catch {
        return refuse(request, 400, 'InvalidParameter', 'labels must be a JSON object string')
      }
      body!.labels = JSON.stringify({ ...labels, ...o.labels, [PROXY_LABEL]: name })
    }
    if (path === '/sdk/ListSession') {
      let labels: Json = {}
      try {
        labels = JSON.parse(query.get('labels') || '{}') as Json
      } catch {
        labels = {}
      }
      query.set('labels', JSON.stringify({ ...labels, [PROXY_LABEL]: name }))
    }

    let answer
    try {
      // A release must finish even when the browser leaves (a closing tab drops its request).
      const upstreamSignal = path.startsWith('/mcp/releaseSession') ? AbortSignal.timeout(30_000) : signal
      answer = await upstreamJson(request.method, path, query, body, upstreamSignal)
    } catch {
      return refuse(request, 502, 'BadGateway', 'the AGB service could not be reached')
    }
    if (!isObject(answer.json)) {
      return new Response(answer.text, { status: answer.response.status, headers: { 'content-type': answer.response.headers.get('content-type') ?? 'text/plain', ...cors(request) } })
    }
    const json = await rewrite(path, answer.json)
    const headers: Record<string, string> = { 'content-type': 'application/json', ...cors(request) }
    const requestId = answer.response.headers.get('x-request-id')
    if (requestId) headers['x-request-id'] = requestId
    const retryAfter = answer.response.headers.get('retry-after')
    if (retryAfter) headers['retry-after'] = retryAfter
    return new Response(JSON.stringify(json), { status: answer.response.status, headers })
  }
}
