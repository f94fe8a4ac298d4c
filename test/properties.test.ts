import { randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import * as sdk from '../src/index.ts'
import { createClient, isAgbError, type Client, type FetchLike, type RetryOptions } from '../src/index.ts'
import {
  anyJson,
  anyText,
  changesText,
  codeText,
  contextInfoData,
  dirText,
  expandHuge,
  fakeFetch,
  fileInfoText,
  poison,
  infoData,
  internalContextData,
  labelsData,
  listData,
  metricsText,
  readText,
  scenario,
  sessionData,
  shellText,
  statusData,
  toolData,
  toolsData,
  urlData,
  STORE_URL,
  type Scenario,
} from './helpers/envelopes.ts'

// Property-based tests of every response decoder, through the public API: an injected fetch
// answers with arbitrary, malformed and hostile envelopes. Whatever comes back, a call
// resolves or rejects with the SDK's own error (never a TypeError, SyntaxError, RangeError
// ...), its error never shows the API key, and it settles in bounded time.

const KEY = `akm-SECRET-${randomBytes(12).toString('hex')}`
const S = 's-1'
const T = { timeout: 1_000 }
/** runCode's smallest timeout (the sandbox stops code in whole seconds). */
const TR = { timeout: 1_500 }
/** Longest any single run may take before it counts as a hang. */
const BOUND = 4_000
// Reproducible by default; FC_SEED=<n> replays another seed, FC_SEED=random explores.
const SEED = process.env.FC_SEED === 'random' ? Date.now() : Number(process.env.FC_SEED ?? 20_240_601)
const RUNS = Number(process.env.FC_RUNS ?? 150)

const client = (fetch: FetchLike, retry: RetryOptions | false = false): Client => createClient({ apiKey: KEY, endpoint: 'http://agb.test', fetch, retry, timeout: 2_000 })

function describeThrown(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : `${typeof error}: ${String(error)}`
  } catch {
    return typeof error
  }
}

type Outcome = { kind: 'resolved'; value: unknown } | { kind: 'rejected'; error: unknown } | { kind: 'hang' }

async function settle(run: () => Promise<unknown>, ms = BOUND): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'hang' }), ms)
  })
  // A synchronous throw counts as a rejection too.
  const call = Promise.resolve().then(run)
  try {
    return await Promise.race([call.then((value): Outcome => ({ kind: 'resolved', value }), (error: unknown): Outcome => ({ kind: 'rejected', error })), hang])
  } finally {
    clearTimeout(timer)
  }
}

/** The property: settles in time; a rejection is an AgbError that does not show the key. */
function check(name: string, outcome: Outcome): void {
  if (outcome.kind === 'hang') throw new Error(`${name} did not settle within ${BOUND} ms`)
  if (outcome.kind === 'resolved') return
  const error = outcome.error
  if (!isAgbError(error)) throw new Error(`${name} rejected with a non-AgbError: ${describeThrown(error)}`)
  for (const shown of [error.message, error.stack ?? '', String(error), inspect(error, { depth: 5 })]) {
    if (shown.includes(KEY)) throw new Error(`${name}: the API key appears in the error: ${error.message}`)
  }
}

interface Op {
  name: string
  /** Route → data arbitrary (see `scenario`); routes not listed get arbitrary JSON envelopes. */
  routes: Record<string, fc.Arbitrary<unknown>>
  run: (client: Client) => Promise<unknown>
  /** Safe to retry: also run under a retry policy. */
  idempotent?: boolean
  /** Fewer runs for operations that poll until their deadline. */
  runs?: number
  /**
   * Well-formed answers per route (API data, or tool text). With them, half the runs answer
   * every route well but one, so the decoders late in a flow of many requests are reached.
   */
  valid?: Record<string, unknown>
}

const tool = (name: string, text: fc.Arbitrary<string>) => ({ [`tool:${name}`]: toolData(text) })
const contextStatus = (items: Record<string, unknown>[]) => ({ contextStatus: JSON.stringify([{ type: 'data', data: JSON.stringify(items) }]) })
const TRANSFER_CONTEXT = [{ contextId: 'ctx-1', contextType: 'file_transfer', contextPath: '/tmp/file_transfer' }]
const SHELL_OK = JSON.stringify({ stdout: '', stderr: '', exit_code: 0 })
const poll = { pollInterval: 1, timeout: 120 }
const urlish = fc.oneof(fc.record({ url: anyText }), anyJson)

async function watchSome(c: Client): Promise<unknown[]> {
  const events: unknown[] = []
  for await (const event of sdk.watchDir(c, S, '/home/user', { interval: 1, timeout: 500, signal: AbortSignal.timeout(100) })) {
    events.push(event)
    if (events.length >= 3) break
  }
  return events
}

const OPS: Op[] = [
  { name: 'runCode', routes: tool('run_code', codeText), run: (c) => sdk.runCode(c, S, '1', TR) },
  { name: 'exec', routes: tool('shell', shellText), run: (c) => sdk.exec(c, S, 'true', T) },
  {
    name: 'readFile (text)',
    routes: { ...tool('get_file_info', fileInfoText), ...tool('read_file', readText) },
    valid: { 'tool:get_file_info': 'size: 3\nisDirectory: false', 'tool:read_file': 'abc' },
    run: (c) => sdk.readFile(c, S, '/home/user/f', T),
    idempotent: true,
  },
  {
    name: 'readFile (bytes)',
    routes: { ...tool('get_file_info', fileInfoText), ...tool('read_file', readText) },
    valid: { 'tool:get_file_info': 'size: 3\nisDirectory: false', 'tool:read_file': 'YWJj' },
    run: (c) => sdk.readFile(c, S, '/home/user/f', { format: 'bytes', ...T }),
    idempotent: true,
  },
  { name: 'listDir', routes: tool('list_directory', dirText), run: (c) => sdk.listDir(c, S, '/home/user', T), idempotent: true },
  { name: 'stat', routes: tool('get_file_info', fileInfoText), run: (c) => sdk.stat(c, S, '/home/user/f', T), idempotent: true },
  { name: 'getSession', routes: { '/mcp/getSession': sessionData }, run: (c) => sdk.getSession(c, S, T), idempotent: true },
  { name: 'getSessionStatus', routes: { '/mcp/getSessionInfo': statusData }, run: (c) => sdk.getSessionStatus(c, S, T), idempotent: true },
  { name: 'sessionInfo', routes: { '/mcp/getMcpResource': infoData }, run: (c) => sdk.sessionInfo(c, S, T), idempotent: true },
  { name: 'listSessions', routes: { '/sdk/ListSession': listData }, run: (c) => sdk.listSessions(c, { labels: { a: 'b' }, ...T }), idempotent: true },
  { name: 'getLabels', routes: { '/sdk/GetLabel': labelsData }, run: (c) => sdk.getLabels(c, S, T), idempotent: true },
  { name: 'listTools', routes: { '/mcp/listTools': toolsData }, run: (c) => sdk.listTools(c, 'agb-code-space-1', T), idempotent: true },
  { name: 'getMetrics', routes: tool('get_metrics', metricsText), run: (c) => sdk.getMetrics(c, S, T), idempotent: true },
  { name: 'createSession', routes: { '/mcp/createSession': sessionData }, run: (c) => sdk.createSession(c, { imageId: 'agb-code-space-1', labels: { a: 'b' }, ...T }) },
  {
    name: 'createSession (contextSyncs)',
    routes: { '/mcp/createSession': sessionData, '/sdk/GetContextInfo': contextInfoData, '/mcp/releaseSessionAsync': anyJson },
    valid: { '/mcp/createSession': { sessionId: 's-1' }, '/sdk/GetContextInfo': contextStatus([{ contextId: 'ctx-1', path: '/home/user/data', status: 'Success' }]), '/mcp/releaseSessionAsync': {} },
    run: (c) => sdk.createSession(c, { imageId: 'agb-code-space-1', contextSyncs: sdk.contextSyncs([{ contextId: 'ctx-1', path: '/home/user/data' }]), ...poll }),
    runs: 80,
  },
  {
    name: 'deleteSession',
    routes: { '/mcp/releaseSessionAsync': anyJson, '/mcp/getSessionInfo': statusData },
    valid: { '/mcp/releaseSessionAsync': {}, '/mcp/getSessionInfo': { status: 'FINISH' } },
    run: (c) => sdk.deleteSession(c, S, poll),
    idempotent: true,
    runs: 80,
  },
  // The rest of the public surface, for completeness.
  { name: 'getLink', routes: { '/internet/getLink': urlish }, run: (c) => sdk.getLink(c, S, { port: 30100, ...T }), idempotent: true },
  { name: 'keepAlive', routes: { '/mcp/refreshSessionIdleTime': anyJson }, run: (c) => sdk.keepAlive(c, S, T), idempotent: true },
  { name: 'setLabels', routes: { '/sdk/SetLabel': anyJson }, run: (c) => sdk.setLabels(c, S, { a: 'b' }, T), idempotent: true },
  { name: 'callTool', routes: tool('custom_tool', anyText), run: (c) => sdk.callTool(c, S, 'custom_tool', { x: 1 }, T) },
  { name: 'searchFiles', routes: tool('search_files', anyText), run: (c) => sdk.searchFiles(c, S, '/home/user', '*.txt', T), idempotent: true },
  { name: 'readFiles', routes: tool('read_multiple_files', anyText), run: (c) => sdk.readFiles(c, S, ['/a', '/b'], T), idempotent: true },
  { name: 'editFile', routes: tool('edit_file', anyText), run: (c) => sdk.editFile(c, S, '/a', [{ oldText: 'a', newText: 'b' }], T) },
  { name: 'writeFile (bytes)', routes: { ...tool('write_file', anyText), ...tool('shell', shellText) }, valid: { 'tool:write_file': 'ok', 'tool:shell': SHELL_OK }, run: (c) => sdk.writeFile(c, S, '/home/user/b.bin', new Uint8Array([1, 2, 3]), T) },
  { name: 'spawn', routes: tool('shell', shellText), run: (c) => sdk.spawn(c, S, 'sleep 1', T) },
  { name: 'watchDir', routes: tool('get_file_change', changesText), run: watchSome },
  {
    name: 'process wait',
    routes: { ...tool('get_file_info', fileInfoText), ...tool('read_file', readText), ...tool('shell', shellText) },
    valid: { 'tool:get_file_info': 'size: 2\nisDirectory: false', 'tool:read_file': 'MAo=', 'tool:shell': SHELL_OK },
    run: (c) => sdk.attachProcess(c, { sessionId: S, pid: 42, dir: '/tmp/.agb-proc/p' }).wait({ interval: 1, timeout: 120 }),
    runs: 80,
  },
  {
    name: 'process output',
    routes: { ...tool('get_file_info', fileInfoText), ...tool('read_file', readText), ...tool('shell', shellText) },
    valid: { 'tool:get_file_info': 'size: 2\nisDirectory: false', 'tool:read_file': 'MAo=', 'tool:shell': SHELL_OK },
    run: async (c) => {
      const chunks: unknown[] = []
      const handle = sdk.attachProcess(c, { sessionId: S, pid: 42, dir: '/tmp/.agb-proc/p' })
      for await (const chunk of handle.output({ interval: 1, signal: AbortSignal.timeout(120) })) if (chunks.push(chunk) >= 5) break
      return chunks
    },
    runs: 80,
  },
  {
    name: 'uploadFile',
    routes: {
      '/sdk/GetAndLoadInternalContext': internalContextData,
      '/sdk/GetContextFileUploadUrl': urlData,
      store: anyText,
      '/sdk/SyncContext': anyJson,
      '/sdk/GetContextInfo': contextInfoData,
      '/sdk/DeleteContextFile': anyJson,
      ...tool('move_file', anyText),
    },
    valid: {
      '/sdk/GetAndLoadInternalContext': TRANSFER_CONTEXT,
      '/sdk/GetContextFileUploadUrl': { url: STORE_URL },
      store: '',
      '/sdk/SyncContext': {},
      '/sdk/GetContextInfo': contextStatus([{ contextId: 'ctx-1', path: '/tmp/file_transfer', status: 'Success', taskType: 'download' }]),
      '/sdk/DeleteContextFile': {},
      'tool:move_file': 'moved',
    },
    run: (c) => sdk.uploadFile(c, S, '/home/user/up.txt', 'hello', poll),
    runs: 80,
  },
  {
    name: 'downloadFile',
    routes: {
      '/sdk/GetAndLoadInternalContext': internalContextData,
      '/sdk/GetContextFileDownloadUrl': urlData,
      store: anyText,
      '/sdk/SyncContext': anyJson,
      '/sdk/GetContextInfo': contextInfoData,
      '/sdk/DeleteContextFile': anyJson,
      ...tool('shell', shellText),
      ...tool('delete_file', anyText),
    },
    valid: {
      '/sdk/GetAndLoadInternalContext': TRANSFER_CONTEXT,
      '/sdk/GetContextFileDownloadUrl': { url: STORE_URL },
      store: 'file bytes',
      '/sdk/SyncContext': {},
      '/sdk/GetContextInfo': contextStatus([{ contextId: 'ctx-1', path: '/tmp/file_transfer', status: 'Success', taskType: 'upload' }]),
      '/sdk/DeleteContextFile': {},
      'tool:shell': SHELL_OK,
      'tool:delete_file': 'deleted',
    },
    run: (c) => sdk.downloadFile(c, S, '/home/user/down.bin', poll),
    runs: 80,
  },
]

/** A reply list answering well: a clean OK envelope (tool text wrapped), or the raw store body. */
function validReplies(valid: Record<string, unknown>): Scenario {
  const body = (route: string, v: unknown) =>
    route === 'store' ? String(v) : JSON.stringify({ success: true, code: 'OK', message: '', requestId: 'req-ok', httpStatusCode: 200, data: route.startsWith('tool:') ? { isError: false, content: [{ type: 'text', text: v }] } : v })
  return Object.fromEntries(Object.entries(valid).map(([route, v]) => [route, [{ kind: 'http' as const, status: 200, headers: {}, body: body(route, v) }]]))
}

/** All routes arbitrary; or (for flows with `valid` answers) every route answering well but one. */
function scenarios(op: Op): fc.Arbitrary<Scenario> {
  const random = scenario(op.routes)
  if (!op.valid) return random
  const base = validReplies(op.valid)
  const one = fc.constantFrom(...Object.keys(op.routes)).chain((route) => scenario({ [route]: op.routes[route]! }).map((sc): Scenario => ({ ...base, [route]: sc[route]!, '*': sc['*']! })))
  return fc.oneof(random, one)
}

const options = (runs = RUNS) => ({ numRuns: runs, seed: SEED, interruptAfterTimeLimit: 15_000, markInterruptAsFailure: false })

/** Outcomes per operation: the generators must reach the decoders (some calls succeed), not only fail early. */
const tally = new Map<string, Map<string, number>>()
function count(op: string, outcome: Outcome) {
  const label = outcome.kind === 'rejected' ? (isAgbError(outcome.error) ? outcome.error.code : 'other') : outcome.kind
  const row = tally.get(op) ?? new Map<string, number>()
  row.set(label, (row.get(label) ?? 0) + 1)
  tally.set(op, row)
}

describe('every decoder, under arbitrary and malformed answers (retry: false)', () => {
  afterAll(() => {
    const lines = [...tally].map(([op, row]) => `${op.padEnd(28)} ${[...row].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`)
    console.log(`Decoder property outcomes (seed ${SEED}):\n${lines.join('\n')}`)
  })

  it.each(OPS.map((op) => [op.name, op] as const))('%s resolves or rejects with an AgbError, never with the key, in bounded time', async (_name, op) => {
    await fc.assert(
      fc.asyncProperty(scenarios(op), async (sc: Scenario) => {
        const outcome = await settle(() => op.run(client(fakeFetch(sc))))
        count(op.name, outcome)
        check(op.name, outcome)
      }),
      options(op.runs),
    )
    // The generators reach the decoders: some answers are read successfully, some are refused.
    expect(tally.get(op.name)?.get('resolved') ?? 0, `${op.name}: no run got past the decoders`).toBeGreaterThan(0)
  }, 30_000)
})

describe('objects that cannot become strings', () => {
  // JSON can carry {"toString": 1}: String(x) and template literals throw on such an object.
  const poisoned = (sc: Scenario, pick: number, which: number): Scenario =>
    Object.fromEntries(Object.entries(sc).map(([route, list]) => [route, list.map((r) => (r.kind === 'http' ? { ...r, body: poison(r.body, pick, which) } : r))]))

  it('every operation settles as a result or an AgbError when any value of an answer is such an object', async () => {
    const cases = fc.constantFrom(...OPS).chain((op) => fc.tuple(fc.constant(op), scenarios(op), fc.nat(), fc.nat(2)))
    await fc.assert(
      fc.asyncProperty(cases, async ([op, sc, pick, which]) => {
        check(op.name, await settle(() => op.run(client(fakeFetch(poisoned(sc, pick, which))))))
      }),
      options(300),
    )
  }, 30_000)
})

/** A fetch answering each route with a fixed body: tool routes get `text` in a valid OK envelope, API routes `data`. */
function fixedFetch(routes: Record<string, unknown>): FetchLike {
  const ok = (data: unknown) => new Response(JSON.stringify({ success: true, code: 'OK', message: '', requestId: 'req-1', httpStatusCode: 200, data }), { status: 200 })
  return async (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input))
    const key = url.pathname === '/mcp' ? `tool:${(JSON.parse(String(init?.body)) as { name: string }).name}` : url.pathname
    const value = routes[key]
    if (key.startsWith('tool:')) return ok({ isError: false, content: [{ type: 'text', text: String(value ?? '') }] })
    return ok(value ?? {})
  }
}

describe('hostile answers, one per decoding site (precise repros)', () => {
  const unprintable = { toString: 1 }
  const cases: [string, Record<string, unknown>, (c: Client) => Promise<unknown>][] = [
    ['envelope code that is an object (request.ts str)', {}, (c) => sdk.getSessionStatus(createClient({ apiKey: KEY, endpoint: 'http://agb.test', retry: false, fetch: async () => new Response(JSON.stringify({ success: true, code: unprintable, data: { status: 'RUNNING' } })) }), S, T)],
    ['run_code error fields that are objects (parseCodeResult)', { 'tool:run_code': JSON.stringify({ logs: { stdout: [] }, results: [], error: { name: unprintable } }) }, (c) => sdk.runCode(c, S, '1', TR)],
    ['run_code isError content items that are arrays of objects (parseCodeResult)', { 'tool:run_code': JSON.stringify({ isError: true, content: [[unprintable]] }) }, (c) => sdk.runCode(c, S, '1', TR)],
    ['run_code result items that are arrays of objects (parseCodeResult toItem)', { 'tool:run_code': JSON.stringify({ result: [[unprintable]], stdout: [], stderr: [] }) }, (c) => sdk.runCode(c, S, '1', TR)],
    ['a session status that is an object while deleting (deleteSession)', { '/mcp/releaseSessionAsync': {}, '/mcp/getSessionInfo': { status: unprintable } }, (c) => sdk.deleteSession(c, S, poll)],
    [
      'a context-sync status that is an object (createSession waitForContexts)',
      { '/mcp/createSession': { sessionId: 's-1' }, '/sdk/GetContextInfo': { contextStatus: JSON.stringify([{ type: 'data', data: JSON.stringify([{ status: unprintable }]) }]) }, '/mcp/releaseSessionAsync': {} },
      (c) => sdk.createSession(c, { imageId: 'agb-code-space-1', contextSyncs: sdk.contextSyncs([{ contextId: 'ctx-1', path: '/data' }]), ...poll }),
    ],
    [
      'a transfer sync status that is an object (transfer syncContext)',
      {
        '/sdk/GetAndLoadInternalContext': [{ contextId: 'ctx-1', contextPath: '/tmp/file_transfer' }],
        '/sdk/GetContextFileUploadUrl': { url: 'http://store.test/b/k?X-Amz-Signature=1' },
        '/sdk/GetContextInfo': { contextStatus: JSON.stringify([{ type: 'data', data: JSON.stringify([{ contextId: 'ctx-1', path: '/tmp/file_transfer', status: unprintable }]) }]) },
      },
      (c) => sdk.uploadFile(c, S, 'x.txt', 'x', poll),
    ],
    ['read_file base64 with misplaced padding "AA=" (base64 fromBase64 → atob)', { 'tool:get_file_info': 'size: 1\nisDirectory: false', 'tool:read_file': 'AA=' }, (c) => sdk.readFile(c, S, '/f', { format: 'bytes', ...T })],
    ['a negative file size (readFile)', { 'tool:get_file_info': 'size: -1\nisDirectory: false', 'tool:read_file': '' }, (c) => sdk.readFile(c, S, '/f', { format: 'bytes', ...T })],
    ['an absurd file size (readFile)', { 'tool:get_file_info': 'size: 1e12\nisDirectory: false', 'tool:read_file': '' }, (c) => sdk.readFile(c, S, '/f', T)],
    ['a shell answer of null while writing bytes (writeFile)', { 'tool:write_file': 'ok', 'tool:shell': 'null' }, (c) => sdk.writeFile(c, S, '/f.bin', new Uint8Array([1]), T)],
    ['a shell stderr that is not a string while writing bytes (writeFile)', { 'tool:write_file': 'ok', 'tool:shell': JSON.stringify({ exit_code: 1, stderr: 5 }) }, (c) => sdk.writeFile(c, S, '/f.bin', new Uint8Array([1]), T)],
    ['an exit-code file with misplaced base64 padding (process wait → fromBase64)', { 'tool:get_file_info': 'size: 2\nisDirectory: false', 'tool:read_file': 'AA=' }, (c) => sdk.attachProcess(c, { sessionId: S, pid: 1, dir: '/tmp/.agb-proc/p' }).wait(T)],
    ['a shell stdout that is not a string (spawn)', { 'tool:shell': JSON.stringify({ stdout: 42, stderr: '', exit_code: 0 }) }, (c) => sdk.spawn(c, S, 'sleep 1', T)],
  ]
  it.each(cases)('%s: a result or an AgbError', async (name, routes, run) => {
    const store = async (input: Request | string | URL) => (String(input).startsWith('http://store.test') ? new Response('', { status: 200 }) : undefined)
    const fetch: FetchLike = async (input, init) => (await store(input)) ?? fixedFetch(routes)(input, init)
    check(name, await settle(() => run(client(fetch))))
  })
})

describe('retries under arbitrary answers', () => {
  const retry = { attempts: 3, baseDelay: 1, maxDelay: 3 }
  const idempotent = OPS.filter((op) => op.idempotent)

  it('idempotent calls retried over arbitrary failures still settle as result or AgbError', async () => {
    const cases = fc.constantFrom(...idempotent).chain((op) => scenarios(op).map((sc) => ({ op, sc })))
    await fc.assert(
      fc.asyncProperty(cases, async ({ op, sc }) => {
        const fetch = fakeFetch(sc)
        check(op.name, await settle(() => op.run(client(fetch, retry))))
      }),
      options(200),
    )
  }, 30_000)

  it('a retried createSession (tag lookup after ambiguous failures) settles as a session or an AgbError', async () => {
    const routes = { '/mcp/createSession': sessionData, '/sdk/ListSession': listData, '/mcp/getSession': sessionData }
    await fc.assert(
      fc.asyncProperty(scenario(routes), async (sc) => {
        check('createSession', await settle(() => sdk.createSession(client(fakeFetch(sc), retry), { imageId: 'agb-code-space-1', ...T })))
      }),
      options(),
    )
  }, 30_000)
})

/** A fetch answering every tool call with a valid, successful envelope carrying `text`. */
function toolFetch(texts: Record<string, string>): FetchLike {
  return async (_input, init) => {
    const name = String((JSON.parse(String(init?.body)) as { name: string }).name)
    const data = { isError: false, content: [{ type: 'text', text: expandHuge(texts[name] ?? '') }] }
    return new Response(JSON.stringify({ success: true, code: 'OK', message: '', requestId: 'req-1', httpStatusCode: 200, data }), { status: 200 })
  }
}

describe('text parsers never throw on a valid envelope', () => {
  it("runCode's parser turns any tool text into a result", async () => {
    await fc.assert(
      fc.asyncProperty(codeText, async (text) => {
        const outcome = await settle(() => sdk.runCode(client(toolFetch({ run_code: text })), S, '1', TR))
        if (outcome.kind !== 'resolved') throw new Error(`runCode did not resolve: ${outcome.kind === 'rejected' ? describeThrown(outcome.error) : 'hang'}`)
        const r = outcome.value as sdk.RunCodeResult
        expect(typeof r.success).toBe('boolean')
        expect(typeof r.stdout).toBe('string')
        expect(typeof r.stderr).toBe('string')
        expect(Array.isArray(r.results)).toBe(true)
        expect(Number.isNaN(r.executionTime)).toBe(false)
        expect(r.success).toBe(r.error === undefined)
        if (r.error) expect([typeof r.error.name, typeof r.error.value, typeof r.error.traceback]).toEqual(['string', 'string', 'string'])
      }),
      options(300),
    )
  }, 30_000)

  it('exec, listDir, stat, searchFiles, readFiles and callTool read any text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyText, shellText, dirText, fileInfoText), async (text) => {
        const c = client(toolFetch({ shell: text, list_directory: text, get_file_info: text, search_files: text, read_multiple_files: text, t: text }))
        const exec = (await sdk.exec(c, S, 'true', T)) as sdk.ExecResult
        expect(Number.isInteger(exec.exitCode)).toBe(true)
        expect(typeof exec.stdout).toBe('string')
        for (const entry of await sdk.listDir(c, S, '/d', T)) expect(['file', 'directory']).toContain(entry.type)
        const info = await sdk.stat(c, S, '/f', T)
        expect(typeof info.isDirectory).toBe('boolean')
        expect(typeof info.size).toBe('number')
        expect((await sdk.searchFiles(c, S, '/d', '*', T)).every((p) => typeof p === 'string')).toBe(true)
        await sdk.readFiles(c, S, ['/a'], T)
        expect((await sdk.callTool(c, S, 't', {}, T)).text).toBe(expandHuge(text))
      }),
      options(200),
    )
  }, 30_000)

  it('readFile returns any text of a small file as is', async () => {
    const small = fc.tuple(anyText, fc.integer({ min: 1, max: 51_200 }))
    await fc.assert(
      fc.asyncProperty(small, async ([text, size]) => {
        const c = client(toolFetch({ get_file_info: `size: ${size}\nisDirectory: false`, read_file: text }))
        expect(await sdk.readFile(c, S, '/f', T)).toBe(expandHuge(text))
      }),
      options(200),
    )
  }, 30_000)
})

describe('service text that echoes the key', () => {
  // A debugging proxy or a misconfigured gateway may echo the request (headers included)
  // into its error page; the SDK quotes service text in messages, so it must redact it.
  const echoes: [string, number, string][] = [
    ['an HTML error page', 502, `<html><pre>Authorization: Bearer ${KEY}</pre></html>`],
    ['a JSON failure envelope', 403, JSON.stringify({ success: false, code: 'InvalidApiKey', message: `API key ${KEY} is not valid` })],
    ['a success:false envelope over HTTP 200', 200, JSON.stringify({ success: false, code: 'Forbidden', message: `key=${KEY}` })],
    ['a tool error', 200, JSON.stringify({ success: true, data: { isError: true, content: [{ type: 'text', text: `denied for Bearer ${KEY}` }] } })],
  ]
  it.each(echoes)('does not repeat the key from %s in the error message', async (_what, status, body) => {
    const c = client(async () => new Response(body, { status }))
    const error = await sdk.getSessionStatus(c, S, T).catch((e: unknown) => e)
    const toolError = await sdk.exec(c, S, 'true', T).catch((e: unknown) => e)
    for (const e of [error, toolError]) {
      expect(isAgbError(e)).toBe(true)
      expect((e as Error).message).not.toContain(KEY)
      expect(inspect(e, { depth: 5 })).not.toContain(KEY)
    }
  })
})
