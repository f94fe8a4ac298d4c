import * as v from 'valibot'
import { createClient, type WebSocketConstructor } from '../client.ts'
import { AgbError, isAgbError } from '../errors.ts'
import type { FetchLike } from '../types.ts'
import { streamCode, type StreamCodeOptions } from '../code/streamCode.ts'
import { parseJson } from '../_internal/parseJson.ts'
import { nonEmpty, validate } from '../_internal/validate.ts'
import { allowsOrigin } from './allowsOrigin.ts'
import { createIdSigner, type IdKind } from './createIdSigner.ts'
import { createSessionLimiter } from './createSessionLimiter.ts'
import { PERMISSIONS, PROXY_ROUTES, TOOL_PERMISSIONS, type ProxyPermission, type ProxyRoute } from './proxyRoutes.ts'
import { readCappedBody } from './readCappedBody.ts'
import { parseBrowserLabels, ProxyLabelsSchema } from './parseBrowserLabels.ts'
import { ProxyRefusal } from './ProxyRefusal.ts'
import { signAnswerIds } from './signAnswerIds.ts'
import { toNdjsonStream } from './toNdjsonStream.ts'
import { idKind, unsignIds } from './unsignIds.ts'

export type { ProxyPermission } from './proxyRoutes.ts'

/**
 * Who is calling: your application's own login check. Return the caller's id (a user id, an
 * account id: any non-empty string), or `null` to answer 401. Read headers and cookies only;
 * the proxy reads the body afterwards.
 */
export type ProxyAuthorize = (request: Request) => string | null | Promise<string | null>

const positiveInteger = (field: string) => v.optional(v.pipe(v.number(`${field} must be a number`), v.integer(`${field} must be a whole number`), v.minValue(1, `${field} must be at least 1`)))

const ProxyOptionsSchema = v.object({
  apiKey: nonEmpty('apiKey'),
  authorize: v.optional(v.custom<ProxyAuthorize>((f) => typeof f === 'function', 'authorize must be a function (request) => client id or null')),
  public: v.optional(v.boolean('public must be a boolean')),
  endpoint: v.optional(nonEmpty('endpoint')),
  fetch: v.optional(v.custom<FetchLike>((f) => typeof f === 'function', 'fetch must be a function')),
  webSocket: v.optional(v.custom<WebSocketConstructor>((f) => typeof f === 'function', 'webSocket must be a constructor')),
  allow: v.optional(v.array(v.picklist(PERMISSIONS, `allow entries must be one of ${PERMISSIONS.join(', ')}`))),
  imageIds: v.optional(v.array(nonEmpty('imageIds entry'))),
  maxSessions: positiveInteger('maxSessions'),
  maxSessionsPerClient: positiveInteger('maxSessionsPerClient'),
  maxBodyBytes: positiveInteger('maxBodyBytes'),
  name: v.optional(v.pipe(nonEmpty('name'), v.regex(/^[\w.-]+$/, 'name may use letters, digits, _ . -'))),
  basePath: v.optional(v.pipe(v.string(), v.regex(/^(\/[\w.-]+)*$/, 'basePath must look like /agb'))),
  origins: v.optional(v.union([v.literal('*'), v.array(nonEmpty('origin'))], "origins must be '*' or an array of origins")),
  labels: v.optional(ProxyLabelsSchema),
})

/** Options for {@link createProxyHandler}. */
export interface ProxyOptions {
  /** Your AGB API key. It stays on the server: browsers never see it. */
  apiKey: string
  /**
   * Who is calling (required unless `public: true`): your login check, `request` → the
   * caller's client id, or `null` to refuse with 401. May be async. Every session is bound to
   * the client id that created it: other clients can neither list nor use it.
   */
  authorize?: ProxyAuthorize
  /**
   * `true` lets anyone who reaches the proxy use it, as one shared anonymous client: every
   * visitor sees and can use every session created through it, and spends your key up to the
   * limits. Only for demos on a private network or behind your own gate. Default `false`;
   * without `authorize` it must be given explicitly.
   */
  public?: boolean
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
  /** Most sessions alive at once through this proxy, all clients together. Default: no limit. */
  maxSessions?: number
  /** Most sessions alive at once for one client id. Default 5. */
  maxSessionsPerClient?: number
  /**
   * Largest request body read, in bytes; larger ones get 413 before they are read to the end.
   * Default 1 MiB (1 048 576). Big files go through presigned URLs, not through the proxy.
   */
  maxBodyBytes?: number
  /** Name of this proxy, in the `agb-micro-proxy` label of its sessions and in every signature. Default `default`. */
  name?: string
  /** Path the handler is mounted under, e.g. `/agb`. Default `''`. */
  basePath?: string
  /**
   * Other origins whose pages may use the proxy (`'*'`: any). They get CORS answers, and only
   * they (and the proxy's own origin) may send state-changing requests. Default: none
   * (same-origin pages only). With cookie-based `authorize`, list origins; never `'*'`.
   */
  origins?: '*' | string[]
  /** Labels added to every session created through the proxy; browsers cannot change them. */
  labels?: Record<string, string>
}

/** Label marking sessions created through a proxy; its value is the proxy's `name`. */
export const PROXY_LABEL = 'agb-micro-proxy'
/** Label binding a proxy's session to its client: a keyed hash of the client id, not the id itself. */
export const PROXY_CLIENT_LABEL = 'agb-micro-proxy-client'

const DEFAULT_ALLOW: ProxyPermission[] = ['sessions', 'runCode', 'streamCode', 'exec', 'readFiles', 'writeFiles']
const DEFAULT_MAX_PER_CLIENT = 5
const DEFAULT_MAX_BODY = 1024 * 1024
/** Most sessions a browser lists per page: each listed session is checked upstream (one request each). */
const LIST_PAGE_MAX = 20
const STREAM_PATH = '/agb-micro/stream'
/** What the anonymous client of a `public: true` proxy is called in signatures (no `authorize` result can equal it). */
const PUBLIC_CLIENT = ['public']
/** What `streamCode` accepts as `language` (checked here too, so a bad one is a 400 whatever the SDK's checks do). */
const STREAM_LANGUAGES = new Set(['python', 'py', 'python3', 'javascript', 'js', 'node', 'nodejs', 'java', 'r'])
/** Largest timer delay a runtime honours (2^31-1 ms). */
const MAX_TIMER_MS = 2_147_483_647

type Json = Record<string, unknown>
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x)

/**
 * A browser-safe AGB proxy: a web-standard `(Request) => Promise<Response>` for Workers,
 * Deno, Bun, Node (via a web adapter) and frameworks. Browsers create their client with
 * `createClient({ endpoint: '<proxy url>', proxy: true })` and no key. The proxy
 *
 * - asks `authorize` who is calling (401 when it says `null`), and binds every session to
 *   that client: ids handed out are signed for the client and the proxy's `name`, lists show
 *   only the caller's sessions, and every id in a request (query or body) is checked;
 * - adds the key, allows only the configured operations and images, and forwards only the
 *   parameters each operation takes;
 * - holds `maxSessions` and `maxSessionsPerClient` under concurrency, and keeps its own labels
 *   on the sessions (browsers cannot change them);
 * - refuses bodies over `maxBodyBytes` (413), state-changing requests from other origins than
 *   its own and `origins` (403), and bad input (400); it never throws;
 * - strips session tokens and session hosts, and turns `streamCode` into NDJSON over fetch.
 *
 * @param options - `apiKey` and `authorize` (or `public: true`) are required; see {@link ProxyOptions}.
 * @returns The request handler.
 * @throws AgbError `invalid_input` for bad options, or when neither `authorize` nor `public: true` is given.
 * @example
 * ```ts
 * const proxy = createProxyHandler({
 *   apiKey: process.env.AGB_API_KEY!,
 *   authorize: async (request) => (await userFromSessionCookie(request))?.id ?? null,
 *   basePath: '/agb',
 *   imageIds: ['agb-code-space-1'],
 *   maxSessions: 20,
 *   maxSessionsPerClient: 2,
 * })
 * ```
 */
export function createProxyHandler(options: ProxyOptions): (request: Request) => Promise<Response> {
  const o = validate(ProxyOptionsSchema, options, 'options')
  if (!o.authorize && o.public !== true) {
    throw new AgbError(
      'invalid_input',
      'Invalid options.authorize: createProxyHandler needs authorize (request => client id, or null to refuse), or public: true to let every caller share one anonymous client',
    )
  }
  if (o.authorize && o.public === true) throw new AgbError('invalid_input', 'Invalid options.public: give authorize or public: true, not both')
  const authorize = o.authorize
  const upstream = createClient({ apiKey: o.apiKey, ...(o.endpoint ? { endpoint: o.endpoint } : {}), ...(o.fetch ? { fetch: o.fetch } : {}), ...(o.webSocket ? { webSocket: o.webSocket } : {}) })
  const allow = new Set<ProxyPermission>(o.allow ?? DEFAULT_ALLOW)
  const name = o.name ?? 'default'
  const base = o.basePath ?? ''
  const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY
  const signer = createIdSigner(o.apiKey, name)

  /** The labels the proxy owns on a client's sessions. */
  const ownLabels = async (client: string): Promise<Record<string, string>> => ({ ...o.labels, [PROXY_LABEL]: name, [PROXY_CLIENT_LABEL]: await signer.clientTag(client) })

  const cors = (request: Request): Record<string, string> => {
    const origin = request.headers.get('origin')
    if (!origin || !o.origins || (o.origins !== '*' && !o.origins.includes(origin))) return {}
    return {
      'access-control-allow-origin': o.origins === '*' ? '*' : origin,
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'content-type, authorization',
      'access-control-expose-headers': 'x-request-id, retry-after',
      'access-control-max-age': '600',
      // Listed origins are trusted like the proxy's own: their pages may send the login cookie.
      ...(o.origins === '*' ? {} : { 'access-control-allow-credentials': 'true' }),
      vary: 'origin',
    }
  }
  const refuse = (request: Request, refusal: ProxyRefusal) =>
    new Response(JSON.stringify({ success: false, code: refusal.code, message: refusal.message, httpStatusCode: refusal.status, requestId: '' }), {
      status: refusal.status,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...cors(request) },
    })

  const upstreamJson = async (method: string, path: string, query: URLSearchParams, body: Json | undefined, signal: AbortSignal) => {
    const url = `${upstream.endpoint}${path}${query.size ? `?${query}` : ''}`
    // The global fetch is looked up per call, so polyfills and spies installed later apply.
    const response = await (o.fetch ?? globalThis.fetch)(url, {
      method,
      headers: { authorization: `Bearer ${o.apiKey}`, 'content-type': 'application/json' },
      ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
      signal,
    })
    const text = await response.text()
    const json = parseJson(text)
    // PROTOCOL: some answers nest the envelope under `body`.
    const envelope = isObject(json) && isObject(json.body) ? json.body : json
    return { response, text, json, envelope: isObject(envelope) ? envelope : undefined }
  }

  /** Live sessions upstream carrying the proxy's label (and the client's, given its tag); every page is walked when the service gives no total. */
  const countSessions = async (clientTag: string | undefined, signal: AbortSignal) => {
    const labels = JSON.stringify({ [PROXY_LABEL]: name, ...(clientTag ? { [PROXY_CLIENT_LABEL]: clientTag } : {}) })
    let total = 0
    let nextToken = ''
    for (let page = 0; page < 100; page++) {
      const query = new URLSearchParams({ maxResults: '100', labels, ...(nextToken ? { nextToken } : {}) })
      const { response, envelope } = await upstreamJson('GET', '/sdk/ListSession', query, undefined, signal)
      if (!response.ok || !envelope || envelope.success === false) throw new Error(`listing sessions answered HTTP ${response.status}`)
      if (page === 0 && typeof envelope.count === 'number') return envelope.count
      total += Array.isArray(envelope.data) ? envelope.data.length : 0
      nextToken = typeof envelope.nextToken === 'string' ? envelope.nextToken : ''
      if (!nextToken) break
    }
    return total
  }
  const limiter = createSessionLimiter({ total: o.maxSessions, perClient: o.maxSessionsPerClient ?? DEFAULT_MAX_PER_CLIENT }, countSessions)

  /** Whether an upstream session carries this client's labels (a list is checked item by item: the answer must not depend on the service honouring the filter). */
  const ownedBy = async (sessionId: string, own: Record<string, string>, signal: AbortSignal) => {
    try {
      const { envelope } = await upstreamJson('GET', '/sdk/GetLabel', new URLSearchParams({ sessionId }), undefined, signal)
      const data = envelope?.data ?? envelope?.Data
      const raw = isObject(data) ? (data.labels ?? data.Labels) : undefined
      const labels = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw
      return isObject(labels) && labels[PROXY_LABEL] === own[PROXY_LABEL] && labels[PROXY_CLIENT_LABEL] === own[PROXY_CLIENT_LABEL]
    } catch {
      return false
    }
  }

  const identify = async (request: Request): Promise<string> => {
    if (!authorize) return JSON.stringify(PUBLIC_CLIENT)
    let id: unknown
    try {
      id = await authorize(request)
    } catch {
      throw new ProxyRefusal(500, 'InternalError', 'the proxy could not check who is calling (its authorize function threw)')
    }
    if (id === null) throw new ProxyRefusal(401, 'Unauthorized', 'not signed in: this proxy needs a signed-in user (authorize refused the request)')
    if (typeof id !== 'string' || !id) throw new ProxyRefusal(500, 'InternalError', 'the proxy could not check who is calling (authorize must return a non-empty string or null)')
    // A JSON string can never equal the JSON array the public client uses.
    return JSON.stringify(id)
  }

  const readJsonBody = async (request: Request): Promise<Json> => {
    const body = await readCappedBody(request, maxBody)
    if (!body.ok) {
      throw body.reason === 'too_large'
        ? new ProxyRefusal(413, 'PayloadTooLarge', `the request body is over this proxy's ${maxBody} bytes; move files through presigned URLs (uploadFile/downloadFile)`)
        : new ProxyRefusal(400, 'InvalidParameter', 'the request body could not be read')
    }
    // Text that is not JSON, and JSON that is not an object, get the same refusal.
    const parsed = parseJson(body.text || '{}')
    if (!isObject(parsed)) throw new ProxyRefusal(400, 'InvalidParameter', 'the body must be a JSON object')
    return parsed
  }

  /** Checks and unsigns every id in the body; keeps only `keys`. */
  const forwardBody = async (body: Json, keys: readonly string[], client: string): Promise<Json> => {
    const problem = await unsignIds(body, (kind: IdKind, signed) => signer.verify(kind, signed, client))
    if (problem?.reason === 'too_deep') throw new ProxyRefusal(400, 'InvalidParameter', `the body nests too deep at ${problem.path || 'its top'}`)
    if (problem) throw new ProxyRefusal(403, 'Forbidden', `unknown ${problem.path}: not created through this proxy for this user`)
    const out: Json = {}
    for (const key of keys) if (body[key] !== undefined) out[key] = body[key]
    return out
  }

  /** Checks and unsigns every id in the query; keeps only the route's keys. */
  const forwardQuery = async (incoming: URLSearchParams, route: ProxyRoute, client: string): Promise<URLSearchParams> => {
    const values = new Map<string, string>()
    for (const [key, value] of incoming) {
      if (values.has(key)) throw new ProxyRefusal(400, 'InvalidParameter', `query parameter ${key} is given more than once`)
      const kind = idKind(key)
      if (!kind) {
        values.set(key, value)
        continue
      }
      const id = await signer.verify(kind, value, client)
      if (id === undefined) throw new ProxyRefusal(403, 'Forbidden', `unknown ${kind} in ${key}: not created through this proxy for this user`)
      values.set(key, id)
    }
    const query = new URLSearchParams()
    for (const key of route.query) {
      const value = values.get(key)
      if (value !== undefined) query.set(key, value)
    }
    for (const [key, value] of Object.entries(route.fixedQuery ?? {})) query.set(key, value)
    return query
  }

  const stream = async (request: Request, client: string): Promise<Response> => {
    if (!allow.has('streamCode')) throw new ProxyRefusal(403, 'Forbidden', 'streamCode is not allowed by this proxy')
    const body = await readJsonBody(request)
    if (body.sessionId === undefined) throw new ProxyRefusal(400, 'InvalidParameter', 'sessionId is required')
    const forwarded = await forwardBody(body, ['sessionId', 'code', 'language', 'timeout'], client)
    if (typeof forwarded.code !== 'string') throw new ProxyRefusal(400, 'InvalidParameter', 'code must be a string')
    if (forwarded.language !== undefined && !(typeof forwarded.language === 'string' && STREAM_LANGUAGES.has(forwarded.language.trim().toLowerCase()))) {
      throw new ProxyRefusal(400, 'InvalidParameter', `language must be one of ${[...STREAM_LANGUAGES].join(', ')}`)
    }
    const timeout = forwarded.timeout
    if (timeout !== undefined && !(typeof timeout === 'number' && Number.isInteger(timeout) && timeout >= 1 && timeout <= MAX_TIMER_MS)) {
      throw new ProxyRefusal(400, 'InvalidParameter', `timeout must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}`)
    }
    let events: ReadableStream<unknown>
    try {
      events = streamCode(upstream, String(forwarded.sessionId), forwarded.code, {
        ...(forwarded.language !== undefined ? { language: forwarded.language as StreamCodeOptions['language'] } : {}),
        ...(typeof timeout === 'number' ? { timeout } : {}),
        signal: request.signal,
      })
    } catch (error) {
      // streamCode checks its options synchronously: a bad language or timeout is the browser's input.
      if (isAgbError(error, 'invalid_input')) throw new ProxyRefusal(400, 'InvalidParameter', error.message.replace(/^Invalid options\./, 'Invalid '))
      throw error
    }
    return new Response(toNdjsonStream(events), { headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', ...cors(request) } })
  }

  const handle = async (request: Request): Promise<Response> => {
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: cors(request) })
    const url = new URL(request.url)
    if (base && url.pathname !== base && !url.pathname.startsWith(`${base}/`)) throw new ProxyRefusal(404, 'NotFound', 'no such route')
    const path = url.pathname.slice(base.length) || '/'
    // Before anything else (the body, the login check): a forged cross-site write gets nowhere.
    if (!allowsOrigin(request, o.origins)) {
      throw new ProxyRefusal(403, 'Forbidden', `cross-site request refused: origin ${request.headers.get('origin') ?? '(none)'} may not change anything through this proxy`)
    }
    const client = await identify(request)

    if (path === STREAM_PATH && request.method === 'POST') return stream(request, client)
    const route = PROXY_ROUTES[`${request.method} ${path}`]
    if (!route) throw new ProxyRefusal(404, 'NotFound', `no such route: ${request.method} ${path}`)
    if (path !== '/mcp' && !allow.has(route.permission)) throw new ProxyRefusal(403, 'Forbidden', `${route.permission} is not allowed by this proxy`)

    const incoming = request.method === 'POST' ? await readJsonBody(request) : {}
    if (path === '/mcp') {
      const tool = typeof incoming.name === 'string' ? incoming.name : ''
      const permission = TOOL_PERMISSIONS[tool] ?? 'callTool'
      if (!allow.has(permission)) throw new ProxyRefusal(403, 'Forbidden', permission === 'callTool' ? `tool ${tool || '(none)'} is not allowed by this proxy` : `${permission} is not allowed by this proxy`)
    }
    const query = await forwardQuery(url.searchParams, route, client)
    const body = await forwardBody(incoming, route.body, client)
    if (route.session === 'query' ? !query.has('sessionId') : route.session === 'body' ? typeof body.sessionId !== 'string' : false) {
      throw new ProxyRefusal(400, 'InvalidParameter', 'sessionId is required')
    }
    if (route.context && !query.has('contextId')) throw new ProxyRefusal(400, 'InvalidParameter', 'contextId is required')

    let release: (() => void) | undefined
    // The caller's own labels on a list, worked out (an HMAC) once for the filter and the check of the answer.
    let listOwn: Record<string, string> | undefined
    if (path === '/mcp/createSession') {
      const image = query.get('imageId') ?? ''
      if (o.imageIds && !o.imageIds.includes(image)) throw new ProxyRefusal(403, 'Forbidden', `image ${image || '(none)'} is not allowed by this proxy`)
      if (incoming.mcpPolicyId !== undefined) throw new ProxyRefusal(403, 'Forbidden', 'policyId is not allowed through this proxy: the server decides what sandboxes may do')
      const own = await ownLabels(client)
      body.labels = JSON.stringify({ ...parseBrowserLabels(body.labels, 'labels', own), ...own })
      const reservation = await limiter.reserve(own[PROXY_CLIENT_LABEL]!, AbortSignal.any([request.signal, AbortSignal.timeout(30_000)])).catch(() => {
        throw new ProxyRefusal(503, 'ServiceUnavailable', 'the proxy could not count live sessions upstream; try again')
      })
      if (!reservation.ok) throw new ProxyRefusal(429, 'Throttling.SessionLimit', reservation.message)
      release = reservation.release
    } else if (path === '/sdk/SetLabel') {
      if (!query.has('Labels')) throw new ProxyRefusal(400, 'InvalidParameter', 'Labels is required')
      const own = await ownLabels(client)
      // SetLabel replaces every label: the proxy's are put back whatever the browser sent.
      query.set('Labels', JSON.stringify({ ...parseBrowserLabels(query.get('Labels'), 'Labels', own), ...own }))
    } else if (path === '/sdk/ListSession') {
      const own = (listOwn = await ownLabels(client))
      const filter = parseBrowserLabels(query.get('labels'), 'labels', own)
      query.set('labels', JSON.stringify({ ...filter, [PROXY_LABEL]: own[PROXY_LABEL], [PROXY_CLIENT_LABEL]: own[PROXY_CLIENT_LABEL] }))
      const max = query.has('maxResults') ? Number(query.get('maxResults')) : 10
      if (!Number.isInteger(max) || max < 1) throw new ProxyRefusal(400, 'InvalidParameter', 'maxResults must be a positive whole number')
      query.set('maxResults', String(Math.min(max, LIST_PAGE_MAX)))
    }

    let answer
    try {
      // A release must finish even when the browser leaves (a closing tab drops its request).
      const signal = path.startsWith('/mcp/releaseSession') ? AbortSignal.timeout(30_000) : request.signal
      answer = await upstreamJson(request.method, path, query, body, signal)
    } catch {
      throw new ProxyRefusal(502, 'BadGateway', 'the AGB service could not be reached')
    } finally {
      release?.()
    }
    if (!isObject(answer.json)) {
      // Passed on as plain text whatever the service called it: an HTML error page must not render on the app's origin.
      return new Response(answer.text, { status: answer.response.status, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...cors(request) } })
    }
    const json = answer.json
    if (listOwn) {
      const own = listOwn
      const data = answer.envelope! // `json` is an object, so its envelope is one
      if (Array.isArray(data.data)) {
        const items = data.data as unknown[]
        const owned = await Promise.all(items.map((item) => isObject(item) && typeof item.sessionId === 'string' && ownedBy(item.sessionId, own, request.signal)))
        const kept = items.filter((_, i) => owned[i])
        if (kept.length !== items.length) delete data.count
        data.data = kept
      }
    }
    // Tool results are the sandbox's output: left as they are.
    if (path !== '/mcp') await signAnswerIds(json, (kind, id) => signer.sign(kind, id, client))
    const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store', ...cors(request) }
    const requestId = answer.response.headers.get('x-request-id')
    if (requestId) headers['x-request-id'] = requestId
    const retryAfter = answer.response.headers.get('retry-after')
    if (retryAfter) headers['retry-after'] = retryAfter
    return new Response(JSON.stringify(json), { status: answer.response.status, headers })
  }

  return async function proxy(request: Request): Promise<Response> {
    try {
      return await handle(request)
    } catch (error) {
      if (error instanceof ProxyRefusal) return refuse(request, error)
      // A bug, not the browser's input: answer instead of crashing the server, without details.
      return refuse(request, new ProxyRefusal(500, 'InternalError', 'the proxy failed to handle this request'))
    }
  }
}
