import fc from 'fast-check'
import type { FetchLike } from '../../src/index.ts'

// Arbitrary, malformed and adversarial API answers for property tests, and a fake `fetch`
// that serves them by route. Every body is JSON *text*: the SDK parses it like a real answer.

/**
 * Keys that collide with prototype members or with envelope and tool fields. (`toString` and
 * `valueOf` are left to {@link poison}: an object carrying them cannot become a string.)
 */
const key = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'then', 'toJSON', 'length', 'prototype') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('success', 'data', 'body', 'code', 'message', 'content', 'text', 'type', 'isError', 'sessionId', 'status', 'result', 'logs', 'results', 'error', 'stdout', 'exit_code', 'labels', 'url', 'name', 'Data', 'Success'),
  },
)

const surrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((n) => String.fromCharCode(n))
/**
 * One megabyte of text, and of multi-byte text: bodies the SDK must cut, not choke on. The
 * arbitraries carry short markers that {@link fakeFetch} expands, so a failing example prints small.
 */
const HUGE: Record<string, string> = { '<<HUGE-ASCII>>': 'x'.repeat(1_000_000), '<<HUGE-UTF8>>': 'é'.repeat(300_000) }
/** Expands the huge-text markers of {@link anyText} in a body. */
export const expandHuge = (body: string) => (body.includes('<<HUGE-') ? body.replace(/<<HUGE-(ASCII|UTF8)>>/g, (m) => HUGE[m] ?? m) : body)

const { json, text } = fc.letrec<{ json: unknown; text: string }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.constantFrom(-1, 0, 1e21, 2 ** 53, -0),
    tie('text'),
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(key, tie('json'), { maxKeys: 4 }),
  ),
  text: fc.oneof(
    { depthSize: 'small', maxDepth: 2 },
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.string({ unit: surrogate, maxLength: 3 }),
    fc.base64String({ maxLength: 24 }),
    fc.constantFrom('', ' ', 'null', '{}', '[]', '{"', '"', 'true', '1e999', '[DIR] a', '[FILE] b', 'size: 12', 'isDirectory: true', '\uFEFF{}'),
    // JSON inside a string, as the service double-encodes tool args, labels, tool lists ...
    tie('json').map((v) => JSON.stringify(v) ?? ''),
  ),
}))

/** Any JSON value (with hostile keys and un-stringifiable objects). */
export const anyJson = json
/** Any string (unicode, lone surrogates, base64, JSON-in-string ...). */
export const anyText = fc.oneof({ weight: 30, arbitrary: text }, { weight: 1, arbitrary: fc.constantFrom(...Object.keys(HUGE)) })

const or = <T>(likely: fc.Arbitrary<T>, weight = 4) => fc.oneof({ weight, arbitrary: likely as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: json })
const stringified = (a: fc.Arbitrary<unknown>) => a.map((v) => JSON.stringify(v) ?? '')
const partial = <T extends Record<string, fc.Arbitrary<unknown>>>(model: T) => fc.record(model, { requiredKeys: [] })

const rarely = fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })

/** The service's envelope around `data`, in every casing and nesting seen, fields missing or mistyped. */
export function envelope(data: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const fields = fc.record({
    success: fc.oneof({ weight: 8, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: json }),
    code: or(fc.constantFrom('OK', 'InvalidMcpSession.NotFound', 'Throttling', 'AccessDenied', 'InternalError', 'InvalidParameter')),
    message: or(text),
    requestId: or(fc.uuid()),
    httpStatusCode: or(fc.constantFrom(200, 400, 404, 429, 500, 503)),
    data,
  })
  const drop = fc.option(fc.subarray(['success', 'code', 'message', 'requestId', 'httpStatusCode', 'data']), { freq: 5 })
  const extras = fc.option(partial({ nextToken: or(fc.string({ maxLength: 6 })), maxResults: json, count: or(fc.nat()) }), { freq: 2 })
  return fc
    .record({ fields, drop, pascal: rarely, nested: rarely, extras })
    .map(({ fields, drop, pascal, nested, extras }) => {
      let body: Record<string, unknown> = { ...fields }
      for (const k of drop ?? []) delete body[k]
      if (pascal) {
        body = Object.fromEntries(Object.entries(body).map(([k, v]) => [k[0]!.toUpperCase() + k.slice(1), v]))
      }
      return nested ? { body, ...extras } : { ...body, ...extras }
    })
}

/** A tool's `data`: a `CallToolResult` (or its JSON string, or nonsense) carrying `text`. */
export function toolData(textArb: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  const item = fc.oneof(
    { weight: 8, arbitrary: fc.record({ type: fc.constant('text'), text: textArb }) },
    {
      weight: 1,
      arbitrary: partial({ type: or(fc.constantFrom('image', 'resource', 'text')), text: fc.oneof(textArb, json), blob: or(text), data: or(text) }),
    },
    { weight: 1, arbitrary: textArb },
    { weight: 1, arbitrary: json },
  )
  const content = fc.oneof({ weight: 8, arbitrary: fc.array(item, { minLength: 1, maxLength: 3 }) }, { weight: 1, arbitrary: json })
  const isError = fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 2, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: json })
  const doc = fc.record({ isError, content }, { requiredKeys: ['content'] })
  return fc.oneof({ weight: 8, arbitrary: doc }, { weight: 1, arbitrary: stringified(doc) }, { weight: 1, arbitrary: textArb }, { weight: 1, arbitrary: json })
}

// ---- tool texts, per tool --------------------------------------------------------------

const streamField = fc.oneof(fc.array(or(text)), text, json)
const resultItem = fc.oneof(
  partial({ 'text/plain': or(text), 'text/html': or(text), 'image/png': or(fc.base64String()), 'application/json': json, isMainResult: json, is_main_result: json, text: json, chart: json }),
  text,
  stringified(json),
  stringified(stringified(json)),
  json,
)
const current = partial({
  result: or(fc.array(resultItem, { maxLength: 3 })),
  stdout: streamField,
  stderr: streamField,
  executionError: or(fc.constantFrom('ZeroDivisionError: division by zero', '', 'boom')),
  execution_count: or(fc.nat()),
  executionCount: json,
  execution_time: or(fc.double()),
})
const rich = partial({
  logs: or(partial({ stdout: streamField, stderr: streamField })),
  results: or(fc.array(resultItem, { maxLength: 3 })),
  error: or(partial({ name: or(text), value: or(text), traceback: or(text) })),
  isError: json,
  execution_count: json,
})
/** `run_code` texts in every format of PROTOCOL §5.1, and broken ones. */
export const codeText: fc.Arbitrary<string> = fc.oneof(
  anyText,
  stringified(current),
  stringified(rich),
  stringified(fc.record({ content: fc.array(fc.record({ text: stringified(fc.oneof(current, rich, json)) }), { minLength: 1, maxLength: 2 }) })),
  stringified(fc.record({ isError: fc.constant(true), content: or(fc.array(fc.oneof(partial({ text: json }), json), { maxLength: 3 })) })),
)

/** `shell` texts: its JSON with fields of any type, raw text, nonsense. */
export const shellText: fc.Arbitrary<string> = fc.oneof(
  anyText,
  stringified(partial({ stdout: or(text), stderr: or(text), exit_code: or(fc.integer({ min: -1, max: 255 })), errorCode: or(fc.integer()), traceId: or(text) })),
)

/** `get_file_info` texts: sizes negative, fractional, huge, infinite, missing; odd lines. */
export const fileInfoText: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: anyText },
  {
    weight: 3,
    arbitrary: fc
      .record({
        size: fc.oneof(fc.nat(200_000).map(String), fc.constantFrom('-1', '1e12', 'Infinity', 'NaN', '1.5', '0', '', '1e400', '9007199254740993')),
        isDirectory: fc.constantFrom('true', 'false', 'TRUE', 'yes', ''),
        extra: text,
      })
      .map((r) => `name: f\nsize: ${r.size}\nisDirectory: ${r.isDirectory}\nmodTime: 2025-01-01T10:00:00\n${r.extra}`),
  },
)

/** `read_file` texts: text, and base64 that is right, wrong, padded oddly or not base64. */
export const readText: fc.Arbitrary<string> = fc.oneof(
  anyText,
  fc.base64String({ maxLength: 64 }),
  fc.string({ unit: fc.constantFrom(...'AZaz09+/=-_ \n%'.split('')), maxLength: 12 }),
  fc.constantFrom('AA=', 'A', 'A=', '====', 'AAAA====', 'AA==AA==', '%%%', 'YWJj\nZGVm'),
)

/** `list_directory` texts. */
export const dirText: fc.Arbitrary<string> = fc.oneof(anyText, fc.array(fc.oneof(fc.string().map((s) => `[DIR] ${s}`), fc.string().map((s) => `[FILE] ${s}`), text)).map((l) => l.join('\n')))

const metricsDoc = partial({
  cpu_count: or(fc.nat()),
  cpu_used_pct: or(fc.double()),
  mem_total: or(fc.nat()),
  mem_used: or(fc.nat(), 10),
  rx_rate_kbps: or(fc.double()),
  tx_used_KB: or(fc.nat(), 10),
  timestamp: or(fc.oneof(fc.string(), fc.nat())),
})
/** `get_metrics` texts, once or twice JSON-encoded. */
export const metricsText: fc.Arbitrary<string> = fc.oneof(anyText, stringified(metricsDoc), stringified(stringified(metricsDoc)))

/** `get_file_change` texts. */
export const changesText: fc.Arbitrary<string> = fc.oneof(
  anyText,
  stringified(fc.array(or(partial({ eventType: or(text), Path: or(text), pathType: json })), { maxLength: 3 })),
)

// ---- API data, per route ---------------------------------------------------------------

const toolList = fc.array(or(partial({ name: or(text), Name: json, server: or(text), serverName: json, description: or(text), inputSchema: json, tool: json })), { maxLength: 3 })

/** createSession / getSession `data`. */
export const sessionData = or(
  fc.record({
    sessionId: or(fc.constant('s-1'), 6),
    resourceUrl: or(text, 20),
    linkUrl: or(text, 20),
    LinkUrl: or(text, 20),
    wsUrl: or(text, 20),
    WsUrl: or(text, 20),
    token: or(text, 20),
    Token: or(text, 20),
    toolList: fc.oneof(stringified(toolList), toolList, text, json),
    ToolList: json,
    status: or(fc.constantFrom('RUNNING', 'FINISH'), 20),
    success: or(fc.constant(true), 6),
    errMsg: or(text),
  }, { requiredKeys: ['sessionId'] }),
  8,
)
/** getSessionInfo `data`. */
export const statusData = or(fc.record({ status: or(fc.constantFrom('RUNNING', 'FINISH', 'DELETED')), Status: or(text) }, { requiredKeys: ['status'] }), 8)
/** getMcpResource `data`. */
export const infoData = or(
  partial({ sessionId: or(fc.constant('s-1')), resourceUrl: or(text), desktopInfo: or(partial({ appId: or(text), authCode: json, ticket: or(text), resourceType: or(text) })) }),
  8,
)
/** ListSession `data`. */
export const listData = or(fc.array(or(partial({ sessionId: or(fc.constant('s-1')), sessionStatus: or(text) })), { maxLength: 4 }), 8)
/** GetLabel `data`. */
export const labelsData = or(partial({ labels: fc.oneof(stringified(fc.dictionary(key, or(text))), fc.dictionary(key, json), text, json) }), 8)
/** listTools `data`. */
export const toolsData = fc.oneof(stringified(toolList), toolList, text, json)
const contextItem = fc.record(
  {
    contextId: or(fc.constant('ctx-1'), 8),
    path: or(fc.constantFrom('/tmp/file_transfer', '/home/user'), 8),
    status: or(fc.constantFrom('Success', 'Failed', 'Running', 'success', 'Pending')),
    taskType: or(fc.constantFrom('upload', 'download')),
    errorMessage: or(fc.oneof(fc.constant(''), text)),
  },
  { requiredKeys: ['contextId', 'path', 'status'] },
)
const contextGroups = fc.array(or(partial({ type: or(fc.constant('data')), data: fc.oneof(stringified(fc.array(or(contextItem), { maxLength: 3 })), fc.array(contextItem), text, json) })), { maxLength: 2 })
/** GetContextInfo `data`: items twice JSON-encoded. */
export const contextInfoData = or(partial({ contextStatus: fc.oneof(stringified(contextGroups), contextGroups, text, json) }), 8)
/** GetAndLoadInternalContext `data`. */
export const internalContextData = or(
  fc.array(
    or(
      fc.record(
        {
          contextId: or(fc.constant('ctx-1'), 12),
          contextType: or(fc.constant('file_transfer')),
          contextPath: or(fc.oneof({ weight: 6, arbitrary: fc.constantFrom('/tmp/file_transfer', '/tmp/file_transfer/') }, { weight: 1, arbitrary: fc.constantFrom('', '/') }), 12),
        },
        { requiredKeys: ['contextId', 'contextPath'] },
      ),
      12,
    ),
    { minLength: 1, maxLength: 2 },
  ),
  8,
)
/** A presigned URL where the fake store answers, and broken ones. */
export const STORE_URL = 'http://store.test/bucket/obj?X-Amz-Signature=0123abcd'
/** GetContextFile{Upload,Download}Url `data`. */
export const urlData = or(fc.record({ url: or(fc.constantFrom(STORE_URL, STORE_URL, 'not a url', '', 'ftp://x/y')), expireTime: json }, { requiredKeys: ['url'] }), 8)

// ---- replies and the fake fetch --------------------------------------------------------

/** One answer of the fake fetch. */
export type Reply =
  | { kind: 'http'; status: number; body: string; headers: Record<string, string> }
  | { kind: 'throw'; error: 'fetch-failed' | 'reset' | 'string' | 'type-error' }
  | { kind: 'broken-body'; status: number }

const STATUSES = [200, 201, 202, 204, 206, 301, 304, 400, 401, 403, 404, 408, 409, 413, 425, 429, 500, 502, 503, 504, 599]
const status = fc.oneof({ weight: 8, arbitrary: fc.constant(200) }, { weight: 2, arbitrary: fc.constantFrom(...STATUSES) })
const headers = partial({
  'x-request-id': fc.string({ maxLength: 12 }),
  'retry-after': fc.constantFrom('0', '1', '-1', 'soon', 'Wed, 21 Oct 2015 07:28:00 GMT', '1e9', 'NaN', ''),
  'content-type': fc.constantFrom('application/json', 'text/html', 'text/plain', 'application/octet-stream'),
}) as fc.Arbitrary<Record<string, string>>

/** A body for a route whose envelope carries `data`: mostly an envelope, sometimes anything. */
export function bodyText(data: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  const env = stringified(envelope(data))
  return fc.oneof(
    { weight: 12, arbitrary: env },
    { weight: 1, arbitrary: stringified(json) },
    { weight: 1, arbitrary: env.chain((s) => fc.nat(s.length).map((n) => s.slice(0, n))) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '<html><body><h1>502 Bad Gateway</h1></body></html>', 'null', '"ok"', '[]', '\uFEFF{}', '{"success":true,"data":{"__proto__":{"sessionId":"s-1"}}}') },
    { weight: 1, arbitrary: anyText },
  )
}

/** A well-formed OK envelope around `data` (so multi-step flows get past their first steps). */
export const cleanBody = (data: fc.Arbitrary<unknown>): fc.Arbitrary<string> =>
  data.map((d) => JSON.stringify({ success: true, code: 'OK', message: '', requestId: 'req-ok', httpStatusCode: 200, data: d }))

/**
 * Replies for one route: a clean OK answer half the time (its data still arbitrary), else a
 * messy HTTP answer, sometimes a transport failure or a body that breaks while read.
 */
export function replies(body: fc.Arbitrary<string>, clean?: fc.Arbitrary<string>, cleanWeight = 20): fc.Arbitrary<Reply[]> {
  const http = (b: fc.Arbitrary<string>, s: fc.Arbitrary<number>, h: fc.Arbitrary<Record<string, string>>) =>
    fc.record({ kind: fc.constant('http' as const), status: s, body: b, headers: h })
  const reply: fc.Arbitrary<Reply> = fc.oneof(
    { weight: clean ? cleanWeight : 0, arbitrary: http(clean ?? body, fc.constant(200), fc.constant({})) },
    { weight: 20, arbitrary: http(body, status, headers) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('throw' as const), error: fc.constantFrom('fetch-failed' as const, 'reset' as const, 'string' as const, 'type-error' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('broken-body' as const), status }) },
  )
  return fc.array(reply, { minLength: 1, maxLength: 3 })
}

/** Route → replies. Keys: an API path (`/mcp/getSession`), `tool:<name>` for `/mcp`, `store`, `*`. */
export type Scenario = Record<string, Reply[]>

/** Where the fake fetch sends a request: see {@link Scenario}. */
export function routeKey(url: URL, body: unknown): string {
  if (url.host === 'store.test') return 'store'
  if (url.pathname !== '/mcp') return url.pathname
  try {
    return `tool:${String((JSON.parse(String(body)) as { name?: unknown }).name)}`
  } catch {
    return 'tool:?'
  }
}

function respond(reply: Reply): Response {
  if (reply.kind === 'throw') {
    if (reply.error === 'string') throw 'socket hang up'
    if (reply.error === 'type-error') throw new TypeError('Failed to fetch')
    const cause = Object.assign(new Error(reply.error === 'reset' ? 'read ECONNRESET' : 'connect ECONNREFUSED 127.0.0.1:9'), { code: reply.error === 'reset' ? 'ECONNRESET' : 'ECONNREFUSED' })
    throw new TypeError('fetch failed', { cause })
  }
  const nullBody = reply.status === 204 || reply.status === 304
  if (reply.kind === 'broken-body') {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"success":tr'))
        controller.error(new TypeError('terminated'))
      },
    })
    return new Response(nullBody ? null : body, { status: reply.status })
  }
  try {
    return new Response(nullBody ? null : expandHuge(reply.body), { status: reply.status, headers: reply.headers })
  } catch {
    return new Response(nullBody ? null : expandHuge(reply.body), { status: reply.status })
  }
}

/**
 * A `fetch` answering each request from the scenario's replies for its route, in turn (and
 * round again). Aborted signals reject as fetch does. Counts requests in `calls`.
 */
export function fakeFetch(scenario: Scenario): FetchLike & { calls: number } {
  const next = new Map<string, number>()
  const f = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    f.calls++
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined)
    if (signal?.aborted) throw signal.reason
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
    const route = routeKey(url, init?.body)
    const list = scenario[route] ?? scenario['*'] ?? [{ kind: 'http', status: 404, body: '{"success":false,"code":"NotFound"}', headers: {} }]
    const i = next.get(route) ?? 0
    next.set(route, i + 1)
    return respond(list[i % list.length]!)
  }
  f.calls = 0
  return f
}

/**
 * Replies per route: each key's data arbitrary wrapped into envelopes (tools: into tool data).
 * `cleanWeight` (against 20 messy) raises the share of well-formed envelopes, so flows of many
 * requests (transfers, context syncs) also get far enough to exercise their later decoders.
 */
export function scenario(routes: Record<string, fc.Arbitrary<unknown>>, cleanWeight = 20): fc.Arbitrary<Scenario> {
  const model: Record<string, fc.Arbitrary<Reply[]>> = { '*': replies(bodyText(json), cleanBody(json), cleanWeight) }
  for (const [route, data] of Object.entries(routes)) {
    model[route] = route === 'store' ? replies(data as fc.Arbitrary<string>) : replies(bodyText(data), cleanBody(data), cleanWeight)
  }
  return fc.record(model)
}

/** Objects that `String(x)` / template literals cannot convert: their toString/valueOf are not functions. */
export const UNPRINTABLE: unknown[] = [{ toString: 1 }, { toString: null, valueOf: 'x' }, { toString: {} }]

/**
 * Replaces the `pick`-th value (in walk order) of a JSON body with an unprintable object;
 * non-JSON bodies are returned as they are.
 */
export function poison(body: string, pick: number, which = 0): string {
  let doc: unknown
  try {
    doc = JSON.parse(body)
  } catch {
    return body
  }
  const slots: [Record<string, unknown> | unknown[], string | number][] = []
  const walk = (v: unknown) => {
    if (typeof v !== 'object' || v === null) return
    for (const [k, child] of Object.entries(v)) {
      slots.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k])
      walk(child)
    }
  }
  walk(doc)
  if (!slots.length) return JSON.stringify(UNPRINTABLE[which % UNPRINTABLE.length])
  const [parent, k] = slots[pick % slots.length]!
  ;(parent as Record<string | number, unknown>)[k] = UNPRINTABLE[which % UNPRINTABLE.length]
  return JSON.stringify(doc)
}
