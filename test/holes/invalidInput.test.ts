// "Bad input throws invalid_input before anything is sent" (README), for EVERY export of the
// package: the exports are enumerated at test time, so a new function without a row here fails
// the first test. Each row lists calls with one bad argument (empty ids and paths, wrong types,
// negative numbers, bad options); each must fail with `invalid_input` and send no request.
import { describe, expect, it } from 'vitest'
import * as sdk from '../../src/index.ts'

/** Every request any client here sends (none should be). */
const sent: string[] = []
const recordingFetch: sdk.FetchLike = async (input, init) => {
  const request = new Request(input, init)
  sent.push(`${request.method} ${request.url}`)
  // Fail fast and without retries if a bad call did go out: the assertion on `sent` reports it.
  return new Response(JSON.stringify({ success: false, code: 'InvalidParameter', message: 'sent', httpStatusCode: 400 }), { status: 400 })
}
const client = sdk.createClient({ apiKey: 'akm-test', endpoint: 'http://agb.invalid', fetch: recordingFetch, retry: false })
const S = 'session-1'
const noop = async () => undefined

/** A call with one bad argument. */
type Bad = [what: string, call: () => unknown]

/**
 * Bad calls shared by every `op(client, session, ...args, options?)` operation: a missing,
 * empty, blank or non-string session; negative, non-numeric or NaN timeouts;
 * a signal that is not an AbortSignal; a retry policy with negative attempts.
 */
function sessionOp(fn: (...a: any[]) => unknown, args: unknown[], options: Record<string, unknown> = {}): Bad[] {
  return [
    ['an empty session id', () => fn(client, '', ...args, options)],
    ['a blank session id', () => fn(client, '   ', ...args, options)],
    ['a number as session', () => fn(client, 42, ...args, options)],
    ['no session', () => fn(client, undefined, ...args, options)],
    ['a session object without id', () => fn(client, {}, ...args, options)],
    ...optionsBad((o) => fn(client, S, ...args, { ...options, ...o })),
  ]
}

/** Bad `RequestOptions` for a call taking them as `call(options)`. */
function optionsBad(call: (o: Record<string, unknown>) => unknown): Bad[] {
  return [
    ['a negative timeout', () => call({ timeout: -1 })],
    ['a NaN timeout', () => call({ timeout: Number.NaN })],
    ['a string timeout', () => call({ timeout: '5000' })],
    ['a signal that is not an AbortSignal', () => call({ signal: 'stop' })],
    ['negative retry attempts', () => call({ retry: { attempts: -1 } })],
  ]
}

const path = (fn: (...a: any[]) => unknown, before: unknown[] = [], after: unknown[] = []): Bad[] => [
  ['an empty path', () => fn(client, S, ...before, '', ...after)],
  ['a blank path', () => fn(client, S, ...before, '  ', ...after)],
  ['a number as path', () => fn(client, S, ...before, 42, ...after)],
]

const handle = sdk.attachProcess(client, { sessionId: S, pid: 4242, dir: '/tmp/.agb-proc/1' })

/** One row per export. Non-functions and the error class are listed with why they have no bad input. */
const ROWS: Record<string, Bad[] | { none: string }> = {
  AgbError: { none: 'the error class itself' },
  isAgbError: { none: 'a predicate: any value is a valid question (answers false)' },
  CREATE_TAG: { none: 'a constant' },
  DEFAULT_ENDPOINT: { none: 'a constant' },
  createClient: [
    ['no options', () => (sdk.createClient as any)()],
    ['an empty apiKey', () => sdk.createClient({ apiKey: '' })],
    ['a number as apiKey', () => sdk.createClient({ apiKey: 42 as any })],
    ['a negative timeout', () => sdk.createClient({ apiKey: 'k', timeout: -1 })],
    ['an endpoint that is not a URL', () => sdk.createClient({ apiKey: 'k', endpoint: 'http://' })],
    ['a fetch that is not a function', () => sdk.createClient({ apiKey: 'k', fetch: 'fetch' as any })],
    ['negative retry attempts', () => sdk.createClient({ apiKey: 'k', retry: { attempts: -1 } })],
  ],
  requestHooks: [
    ['hooks that are not an object', () => (sdk.requestHooks as any)('log')],
    ['an onResponse that is not a function', () => sdk.requestHooks({ onResponse: 'log' as any })],
  ],
  clientFromEnv: [
    ['an env without AGB_API_KEY', () => sdk.clientFromEnv({})],
    ['an empty AGB_API_KEY', () => sdk.clientFromEnv({ AGB_API_KEY: '' })],
    ['a negative AGB_TIMEOUT_MS', () => sdk.clientFromEnv({ AGB_API_KEY: 'k', AGB_TIMEOUT_MS: '-5' })],
    ['a non-numeric AGB_TIMEOUT_MS', () => sdk.clientFromEnv({ AGB_API_KEY: 'k', AGB_TIMEOUT_MS: 'soon' })],
    ['no env', () => (sdk.clientFromEnv as any)(undefined)],
  ],
  createSession: [
    ['no params', () => (sdk.createSession as any)(client)],
    ['an empty imageId', () => sdk.createSession(client, { imageId: '' })],
    ['a number as imageId', () => sdk.createSession(client, { imageId: 42 as any })],
    ['blank label values', () => sdk.createSession(client, { imageId: 'img', labels: { team: ' ' } })],
    ['a negative idleReleaseTimeout', () => sdk.createSession(client, { imageId: 'img', idleReleaseTimeout: -5 })],
    ['a contextSync with an empty path', () => sdk.createSession(client, { imageId: 'img', contextSyncs: [{ contextId: 'c', path: '' }] } as any)],
    ...optionsBad((o) => sdk.createSession(client, { imageId: 'img', ...o })),
  ],
  contextSyncs: [
    ['contexts that are not an array', () => sdk.contextSyncs('ctx-1' as any)],
    ['an empty context id', () => sdk.contextSyncs([{ contextId: '', path: '/data' }])],
    ['an empty path', () => sdk.contextSyncs([{ contextId: 'c', path: '' }])],
    ['a policy that is not an object', () => sdk.contextSyncs([{ contextId: 'c', path: '/data', policy: 'default' as any }])],
  ],
  getSession: sessionOp(sdk.getSession, []),
  attachSession: [
    ['an empty id', () => sdk.attachSession(client, '')],
    ['a number as id', () => sdk.attachSession(client, 42 as any)],
  ],
  getSessionStatus: sessionOp(sdk.getSessionStatus, []),
  sessionInfo: sessionOp(sdk.sessionInfo, []),
  listSessions: [
    ['a negative maxResults', () => sdk.listSessions(client, { maxResults: -1 })],
    ['a string maxResults', () => sdk.listSessions(client, { maxResults: '10' as any })],
    ['blank label values', () => sdk.listSessions(client, { labels: { owner: '' } })],
    ['a number as nextToken', () => sdk.listSessions(client, { nextToken: 42 as any })],
    ...optionsBad((o) => sdk.listSessions(client, o)),
  ],
  deleteSession: [
    ...sessionOp(sdk.deleteSession, []),
    ['a negative pollInterval', () => sdk.deleteSession(client, S, { pollInterval: -1 })],
    ['a string wait flag', () => sdk.deleteSession(client, S, { wait: 'no' as any })],
  ],
  withSession: [
    ['no function', () => (sdk.withSession as any)(client, { imageId: 'img' })],
    ['an empty imageId', () => sdk.withSession(client, { imageId: '' }, noop)],
  ],
  reapSessions: [
    ['no labels', () => (sdk.reapSessions as any)(client, {})],
    ['empty labels (would reap everything)', () => sdk.reapSessions(client, { labels: {} })],
    ['a negative olderThan', () => sdk.reapSessions(client, { labels: { a: 'b' }, olderThan: -1 })],
    ...optionsBad((o) => sdk.reapSessions(client, { labels: { a: 'b' }, ...o })),
  ],
  keepAlive: sessionOp(sdk.keepAlive, []),
  setLabels: [
    ...sessionOp(sdk.setLabels, [{ a: 'b' }]),
    ['labels that are not an object', () => sdk.setLabels(client, S, 'a=b' as any)],
    ['a blank label key', () => sdk.setLabels(client, S, { ' ': 'b' })],
    ['a number as label value', () => sdk.setLabels(client, S, { a: 1 as any })],
  ],
  getLabels: sessionOp(sdk.getLabels, []),
  getLink: [
    ...sessionOp(sdk.getLink, []),
    ['a negative port', () => sdk.getLink(client, S, { port: -1 })],
    ['a port beyond 65535', () => sdk.getLink(client, S, { port: 70_000 })],
    ['a fractional port', () => sdk.getLink(client, S, { port: 80.5 })],
  ],
  getCdpLink: sessionOp(sdk.getCdpLink, []),
  listTools: [
    ['an empty image id', () => sdk.listTools(client, '')],
    ['a number as image', () => sdk.listTools(client, 42 as any)],
    ...optionsBad((o) => sdk.listTools(client, 'img', o)),
  ],
  getMetrics: sessionOp(sdk.getMetrics, []),
  initBrowser: [
    ...sessionOp(sdk.initBrowser, []),
    ['an empty persistentPath', () => sdk.initBrowser(client, S, { persistentPath: '' })],
    ['a browserOption that is not an object', () => sdk.initBrowser(client, S, { browserOption: 'fast' as any })],
  ],
  waitForContexts: [
    ...sessionOp(sdk.waitForContexts, []),
    ['a negative pollInterval', () => sdk.waitForContexts(client, S, { pollInterval: -1 })],
  ],
  runCode: [
    ...sessionOp(sdk.runCode, ['1 + 1']),
    ['code that is not a string', () => sdk.runCode(client, S, 42 as any)],
    ['an unknown language', () => sdk.runCode(client, S, '1', { language: 'cobol' as any })],
    ['an onStdout that is not a function', () => sdk.runCode(client, S, '1', { onStdout: 'log' } as any)],
  ],
  richResults: { none: 'reads whatever a run returned: anything without result items reads as no results' },
  streamCode: [
    ...sessionOp(sdk.streamCode, ['1 + 1']),
    ['code that is not a string', () => sdk.streamCode(client, S, 42 as any)],
    ['an unknown language', () => sdk.streamCode(client, S, '1', { language: 'cobol' as any })],
    ['a negative idleTimeout', () => sdk.streamCode(client, S, '1', { idleTimeout: -1 })],
  ],
  collectCode: [
    ['no stream', () => (sdk.collectCode as any)(undefined)],
    ['a stream that is not iterable', () => (sdk.collectCode as any)({})],
    ['an onStdout that is not a function', () => sdk.collectCode((async function* () {})(), { onStdout: 'log' as any })],
  ],
  exec: [
    ...sessionOp(sdk.exec, ['echo hi']),
    ['an empty command', () => sdk.exec(client, S, '')],
    ['a command that is not a string', () => sdk.exec(client, S, ['echo', 'hi'] as any)],
    ['an empty cwd', () => sdk.exec(client, S, 'pwd', { cwd: '' })],
    ['env values that are not strings', () => sdk.exec(client, S, 'env', { env: { A: 1 as any } })],
  ],
  spawn: [
    ...sessionOp(sdk.spawn, ['sleep 1']),
    ['an empty command', () => sdk.spawn(client, S, '')],
    ['an empty cwd', () => sdk.spawn(client, S, 'pwd', { cwd: '' })],
  ],
  attachProcess: [
    ['no data', () => (sdk.attachProcess as any)(client)],
    ['an empty sessionId', () => sdk.attachProcess(client, { sessionId: '', pid: 1, dir: '/tmp/.agb-proc/p' })],
    ['a negative pid', () => sdk.attachProcess(client, { sessionId: S, pid: -1, dir: '/tmp/.agb-proc/p' })],
    ['a string pid', () => sdk.attachProcess(client, { sessionId: S, pid: '1' as any, dir: '/tmp/.agb-proc/p' })],
    ['an empty dir', () => sdk.attachProcess(client, { sessionId: S, pid: 1, dir: '' })],
    ['a handle asked for output from a negative offset', () => handle.output({ stdoutOffset: -1 })],
  ],
  readFile: [...sessionOp(sdk.readFile, ['/tmp/a.txt']), ...path(sdk.readFile), ['an unknown format', () => sdk.readFile(client, S, '/tmp/a', { format: 'xml' as any })]],
  writeFile: [
    ...sessionOp(sdk.writeFile, ['/tmp/a.txt', 'x']),
    ...path(sdk.writeFile, [], ['x']),
    ['content that is neither string nor bytes', () => sdk.writeFile(client, S, '/tmp/a.txt', 42 as any)],
    ['an unknown mode', () => sdk.writeFile(client, S, '/tmp/a.txt', 'x', { mode: 'replace' as any })],
  ],
  listDir: [...sessionOp(sdk.listDir, ['/tmp']), ...path(sdk.listDir)],
  mkdir: [...sessionOp(sdk.mkdir, ['/tmp/d']), ...path(sdk.mkdir)],
  move: [...sessionOp(sdk.move, ['/tmp/a', '/tmp/b']), ...path(sdk.move, [], ['/tmp/b']), ...path(sdk.move, ['/tmp/a'])],
  remove: [...sessionOp(sdk.remove, ['/tmp/a']), ...path(sdk.remove)],
  stat: [...sessionOp(sdk.stat, ['/tmp/a']), ...path(sdk.stat)],
  editFile: [
    ...sessionOp(sdk.editFile, ['/tmp/a', [{ oldText: 'a', newText: 'b' }]]),
    ...path(sdk.editFile, [], [[{ oldText: 'a', newText: 'b' }]]),
    ['no edits', () => sdk.editFile(client, S, '/tmp/a', [])],
    ['an edit with an empty oldText', () => sdk.editFile(client, S, '/tmp/a', [{ oldText: '', newText: 'b' }])],
    ['edits that are not an array', () => sdk.editFile(client, S, '/tmp/a', { oldText: 'a', newText: 'b' } as any)],
  ],
  searchFiles: [
    ...sessionOp(sdk.searchFiles, ['/tmp', '*.txt']),
    ...path(sdk.searchFiles, [], ['*.txt']),
    ['an empty pattern', () => sdk.searchFiles(client, S, '/tmp', '')],
    ['exclude that is not an array', () => sdk.searchFiles(client, S, '/tmp', '*', { exclude: 'node_modules' as any })],
  ],
  readFiles: [
    ...sessionOp(sdk.readFiles, [['/tmp/a']]),
    ['no paths', () => sdk.readFiles(client, S, [])],
    ['an empty path among them', () => sdk.readFiles(client, S, ['/tmp/a', ''])],
    ['paths that are not an array', () => sdk.readFiles(client, S, '/tmp/a' as any)],
  ],
  watchDir: [
    ...sessionOp(sdk.watchDir, ['/tmp']),
    ...path(sdk.watchDir),
    ['a negative interval', () => sdk.watchDir(client, S, '/tmp', { interval: -1 })],
  ],
  ossEnvInit: [
    ...sessionOp(sdk.ossEnvInit, [{ accessKeyId: 'id', accessKeySecret: 'secret' }]),
    ['an empty accessKeyId', () => sdk.ossEnvInit(client, S, { accessKeyId: '', accessKeySecret: 'secret' })],
    ['no credentials', () => (sdk.ossEnvInit as any)(client, S)],
  ],
  uploadOss: [
    ...sessionOp(sdk.uploadOss, [{ bucket: 'b', object: 'o', path: '/tmp/a' }]),
    ['an empty bucket', () => sdk.uploadOss(client, S, { bucket: '', object: 'o', path: '/tmp/a' })],
    ['an empty path', () => sdk.uploadOss(client, S, { bucket: 'b', object: 'o', path: '' })],
  ],
  downloadOss: [
    ...sessionOp(sdk.downloadOss, [{ bucket: 'b', object: 'o', path: '/tmp/a' }]),
    ['an empty object key', () => sdk.downloadOss(client, S, { bucket: 'b', object: '', path: '/tmp/a' })],
  ],
  uploadOssAnonymous: [
    ...sessionOp(sdk.uploadOssAnonymous, ['https://bucket.example/o?sig=1', '/tmp/a']),
    ['an empty url', () => sdk.uploadOssAnonymous(client, S, '', '/tmp/a')],
    ['an empty path', () => sdk.uploadOssAnonymous(client, S, 'https://bucket.example/o', '')],
  ],
  downloadOssAnonymous: [
    ...sessionOp(sdk.downloadOssAnonymous, ['https://bucket.example/o?sig=1', '/tmp/a']),
    ['an empty url', () => sdk.downloadOssAnonymous(client, S, '', '/tmp/a')],
    ['an empty path', () => sdk.downloadOssAnonymous(client, S, 'https://bucket.example/o', '')],
  ],
  uploadFile: [
    ...sessionOp(sdk.uploadFile, ['/tmp/a', 'x']),
    ...path(sdk.uploadFile, [], ['x']),
    ['a body of the wrong type', () => sdk.uploadFile(client, S, '/tmp/a', 42 as any)],
    ['an onProgress that is not a function', () => sdk.uploadFile(client, S, '/tmp/a', 'x', { onProgress: 'log' as any })],
  ],
  downloadFile: [
    ...sessionOp(sdk.downloadFile, ['/tmp/a']),
    ...path(sdk.downloadFile),
    ['an unknown format', () => sdk.downloadFile(client, S, '/tmp/a', { format: 'text' as any })],
  ],
  callTool: [
    ...sessionOp(sdk.callTool, ['shell', { command: 'echo' }]),
    ['an empty tool name', () => sdk.callTool(client, S, '', {})],
    ['args that are not an object', () => sdk.callTool(client, S, 'shell', 'echo' as any)],
  ],
}

/** How a call ended: its error, or undefined when it (wrongly) succeeded. Streams are read once. */
async function failure(call: () => unknown): Promise<unknown> {
  const settle = async () => {
    try {
      const r = call() as any
      if (r && typeof r.then === 'function') await r
      else if (r && typeof r[Symbol.asyncIterator] === 'function') {
        for await (const _ of r) break
      }
      return undefined
    } catch (e) {
      return e
    }
  }
  let guard: ReturnType<typeof setTimeout> | undefined
  const hung = new Promise((resolve) => {
    guard = setTimeout(() => resolve(new Error('still pending after 5 s')), 5_000)
  })
  const result = await Promise.race([settle(), hung])
  clearTimeout(guard)
  return result
}

const FUNCTION_EXPORTS = Object.keys(sdk).sort()

/** The first argument of every operation taking a client, and valid arguments after it. */
const WITH_CLIENT: Record<string, unknown[]> = {
  createSession: [{ imageId: 'img' }], attachSession: [S], listSessions: [], withSession: [{ imageId: 'img' }, noop],
  reapSessions: [{ labels: { a: 'b' } }], listTools: ['img'], attachProcess: [{ sessionId: S, pid: 1, dir: '/tmp/.agb-proc/1' }],
  setLabels: [S, { a: 'b' }], runCode: [S, '1'], streamCode: [S, '1'], exec: [S, 'true'], spawn: [S, 'true'],
  readFile: [S, '/tmp/a'], writeFile: [S, '/tmp/a', 'x'], listDir: [S, '/tmp'], mkdir: [S, '/tmp/d'], move: [S, '/tmp/a', '/tmp/b'],
  remove: [S, '/tmp/a'], stat: [S, '/tmp/a'], editFile: [S, '/tmp/a', [{ oldText: 'a', newText: 'b' }]], searchFiles: [S, '/tmp', '*'],
  readFiles: [S, ['/tmp/a']], watchDir: [S, '/tmp'], ossEnvInit: [S, { accessKeyId: 'i', accessKeySecret: 's' }],
  uploadOss: [S, { bucket: 'b', object: 'o', path: '/tmp/a' }], downloadOss: [S, { bucket: 'b', object: 'o', path: '/tmp/a' }],
  uploadOssAnonymous: [S, 'https://bucket.example/o', '/tmp/a'], downloadOssAnonymous: [S, 'https://bucket.example/o', '/tmp/a'],
  uploadFile: [S, '/tmp/a', 'x'], downloadFile: [S, '/tmp/a'], callTool: [S, 'shell', {}],
}
const SESSION_ONLY = ['getSession', 'getSessionStatus', 'sessionInfo', 'deleteSession', 'keepAlive', 'getLabels', 'getLink', 'getCdpLink', 'getMetrics', 'initBrowser', 'waitForContexts']

describe('invalid input, for every export of agb-micro', () => {
  it('every export has a row (a new export needs its bad-input cases here)', () => {
    expect(FUNCTION_EXPORTS.filter((name) => !(name in ROWS))).toEqual([])
    expect(Object.keys(ROWS).filter((name) => !(name in sdk))).toEqual([])
  })

  it('every operation taking a client rejects a missing or non-client first argument with invalid_input', async () => {
    const wrong: string[] = []
    for (const name of FUNCTION_EXPORTS) {
      const fn = (sdk as Record<string, unknown>)[name]
      const args = WITH_CLIENT[name] ?? (SESSION_ONLY.includes(name) ? [S] : undefined)
      if (typeof fn !== 'function' || !args) continue
      for (const [what, bad] of [['no client', undefined], ['a string as client', 'akm-key']] as const) {
        sent.length = 0
        const error = await failure(() => (fn as (...a: unknown[]) => unknown)(bad, ...args))
        if (!sdk.isAgbError(error, 'invalid_input')) wrong.push(`${name} with ${what}: ${error === undefined ? 'no error' : String(error).slice(0, 120)}`)
        if (sent.length) wrong.push(`${name} with ${what}: sent ${sent.join(', ')}`)
      }
    }
    expect(wrong, `\n${wrong.join('\n')}\n`).toEqual([])
  })

  for (const name of FUNCTION_EXPORTS) {
    const row = ROWS[name]
    if (!row || !Array.isArray(row)) continue
    it(`${name}: ${row.length} bad calls fail with invalid_input and send nothing`, async () => {
      const wrong: string[] = []
      for (const [what, call] of row) {
        sent.length = 0
        const error = await failure(call)
        if (!sdk.isAgbError(error, 'invalid_input')) wrong.push(`${what}: ${error === undefined ? 'no error' : String(error).slice(0, 160)}`)
        else if (!(error as Error).message) wrong.push(`${what}: an empty message`)
        if (sent.length) wrong.push(`${what}: sent ${sent.join(', ')}`)
      }
      expect(wrong, `\n${wrong.join('\n')}\n`).toEqual([])
    })
  }
})
