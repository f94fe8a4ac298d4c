import { randomBytes } from 'node:crypto'
import { format, inspect } from 'node:util'
import { WebSocket } from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as sdk from '../src/index.ts'
import { createClient, isAgbError, type AgbErrorCode, type Client, type RequestEvent, type ResponseEvent, type Session, type WebSocketConstructor } from '../src/index.ts'
import type { RecordedRequest } from '../server/index.ts'
import { IMAGE, startLocal, TRANSPORTS, type LocalHarness } from './helpers/local.ts'
import { isApiRoute, reachableSecrets, renderings, requestLeaks, shownSecrets, type Secret } from './helpers/secretScan.ts'

// Secrets: a full workout with a recognisable key, over both transports, then a scan of every
// request AGB Local recorded, every error produced, every way a client or session handle is
// commonly printed, and every hook event. The API key may appear only in the authorization
// header of API routes; session tokens only in x-access-token headers (the SDK sends them to
// the WebSocket only, which AGB Local does not record: they must appear nowhere).

const KEY = `akm-SECRET-${randomBytes(16).toString('hex')}`
const WRONG_KEY = `akm-WRONG-${randomBytes(16).toString('hex')}`

describe.each(TRANSPORTS)('secrets over %s', (transport) => {
  let h: LocalHarness
  let client: Client
  const seen = new Set<RecordedRequest>()
  const errors: { step: string; error: unknown }[] = []
  const tokens = new Set<string>()
  const sessions: Session[] = []
  const clients: Client[] = []
  const events: (RequestEvent | ResponseEvent)[] = []
  let harvester: ReturnType<typeof setInterval>

  const harvest = () => {
    for (const r of h.local.requests) seen.add(r)
  }
  const bearer = (secret: string) => `Bearer ${secret}`
  const secrets = (): Secret[] => [
    { name: 'the API key', value: KEY, allowedIn: { header: 'authorization', value: bearer, where: isApiRoute } },
    { name: 'the wrong API key', value: WRONG_KEY, allowedIn: { header: 'authorization', value: bearer, where: isApiRoute } },
    ...[...tokens].map((t, i): Secret => ({ name: `session token #${i + 1}`, value: t, allowedIn: { header: 'x-access-token', value: (s) => s, where: () => true } })),
  ]
  const make = (apiKey: string, extra: Partial<sdk.ClientOptions> = {}) => {
    const c = createClient({
      apiKey,
      endpoint: h.url,
      ...(transport === 'inject' ? { fetch: h.local.fetch } : { webSocket: WebSocket as unknown as WebSocketConstructor }),
      retry: { attempts: 3, baseDelay: 5, maxDelay: 50 },
      hooks: sdk.requestHooks({ onRequest: (e) => events.push(e), onResponse: (e) => events.push(e) }),
      ...extra,
    })
    clients.push(c)
    return c
  }
  const track = (s: Session) => {
    sessions.push(s)
    if (s.token) tokens.add(s.token)
    return s
  }
  /** Runs a step that must fail, keeps its error, and checks its code. */
  const failing = async (step: string, code: AgbErrorCode | AgbErrorCode[], run: () => Promise<unknown>) => {
    const error = await run().then(
      () => new Error(`${step}: expected ${String(code)}, but it succeeded`),
      (e: unknown) => e,
    )
    errors.push({ step, error })
    const codes = Array.isArray(code) ? code : [code]
    expect(codes.some((c) => isAgbError(error, c)), `${step}: ${String((error as Error)?.message)}`).toBe(true)
  }

  beforeAll(async () => {
    h = await startLocal(transport, { apiKey: KEY })
    client = make(KEY)
    harvester = setInterval(harvest, 5)
  })
  afterAll(async () => {
    clearInterval(harvester)
    await h.close()
  })

  it('runs a full workout, failures included', async () => {
    const oss = h.local.oss
    const s = track(await sdk.createSession(client, { imageId: IMAGE, labels: { suite: 'secrets', owner: 'me' } }))
    expect(s.token).toBeTruthy()
    track(await sdk.getSession(client, s.id))
    // Code, shell, files.
    expect((await sdk.runCode(client, s, 'x = 6 * 7\nx')).text).toBe('42')
    expect((await sdk.runCode(client, s, 'raise ValueError("data, not an exception")')).error?.name).toBe('ValueError')
    expect((await sdk.exec(client, s, 'echo "$GREETING" && pwd', { env: { GREETING: 'hi' }, cwd: '/tmp' })).stdout).toBe('hi\n/tmp\n')
    await sdk.writeFile(client, s, '/home/user/a.txt', 'alpha')
    await sdk.writeFile(client, s, '/home/user/b.bin', new Uint8Array([0, 1, 2, 255]))
    expect(await sdk.readFile(client, s, '/home/user/a.txt')).toBe('alpha')
    expect([...(await sdk.readFile(client, s, '/home/user/b.bin', { format: 'bytes' }))]).toEqual([0, 1, 2, 255])
    await sdk.mkdir(client, s, '/home/user/dir')
    await sdk.move(client, s, '/home/user/a.txt', '/home/user/dir/a.txt')
    expect((await sdk.listDir(client, s, '/home/user/dir')).map((e) => e.name)).toEqual(['a.txt'])
    expect((await sdk.stat(client, s, '/home/user/dir/a.txt')).size).toBe(5)
    await sdk.editFile(client, s, '/home/user/dir/a.txt', [{ oldText: 'alpha', newText: 'beta' }])
    expect(await sdk.searchFiles(client, s, '/home/user', '*.txt')).toEqual(['/home/user/dir/a.txt'])
    expect(await sdk.readFiles(client, s, ['/home/user/dir/a.txt'])).toEqual({ '/home/user/dir/a.txt': 'beta' })
    await sdk.remove(client, s, '/home/user/b.bin')
    const proc = await sdk.spawn(client, s, 'echo spawned')
    expect(await proc.wait({ interval: 50 })).toBe(0)
    // Presigned transfer both ways.
    await sdk.uploadFile(client, s, '/home/user/up.txt', 'uploaded', { pollInterval: 20 })
    expect(new TextDecoder().decode(await sdk.downloadFile(client, s, '/home/user/up.txt', { pollInterval: 20 }))).toBe('uploaded')
    // OSS with credentials, and anonymous through presigned URLs.
    await sdk.ossEnvInit(client, s, { accessKeyId: oss.accessKeyId, accessKeySecret: oss.accessKeySecret, endpoint: oss.endpoint(h.url) })
    expect(await sdk.uploadOss(client, s, { bucket: oss.bucket, object: 'secrets/up.txt', path: '/home/user/up.txt' })).toMatch(/success/i)
    expect(await sdk.downloadOss(client, s, { bucket: oss.bucket, object: 'secrets/up.txt', path: '/tmp/oss.txt' })).toMatch(/success/i)
    await sdk.uploadOssAnonymous(client, s, oss.presign('PUT', oss.bucket, 'secrets/anon.txt', 600, h.url), '/home/user/up.txt')
    await sdk.downloadOssAnonymous(client, s, oss.presign('GET', oss.bucket, 'secrets/anon.txt', 600, h.url), '/tmp/anon.txt')
    expect(await sdk.readFile(client, s, '/tmp/anon.txt')).toBe('uploaded')
    // Session endpoints.
    expect((await sdk.getSessionStatus(client, s)).toUpperCase()).toBe('RUNNING')
    expect((await sdk.sessionInfo(client, s)).sessionId).toBe(s.id)
    expect((await sdk.listSessions(client, { labels: { suite: 'secrets' } })).sessions.map((x) => x.id)).toEqual([s.id])
    await sdk.setLabels(client, s, { suite: 'secrets', phase: 'two' })
    expect((await sdk.getLabels(client, s)).phase).toBe('two')
    await sdk.keepAlive(client, s)
    expect(await sdk.getLink(client, s, { port: 30100 })).toMatch(/^https?:\/\//)
    expect((await sdk.listTools(client, IMAGE)).length).toBeGreaterThan(5)
    expect((await sdk.getMetrics(client, s)).cpuCount).toBeGreaterThan(0)
    await sdk.callTool(client, s, 'get_metrics', {})
    const other = track(await sdk.createSession(client, { imageId: IMAGE }))
    await using disposable = track(await sdk.createSession(client, { imageId: IMAGE }))
    await sdk.withSession(client, { imageId: IMAGE }, async (w) => {
      track(w)
      await sdk.exec(client, w, 'true')
    })

    // Failures: wrong key, faults of every kind, invalid input, a refused connection, aborts.
    const wrong = make(WRONG_KEY)
    await failing('wrong key: createSession', 'unauthorized', () => sdk.createSession(wrong, { imageId: IMAGE }))
    await failing('wrong key: runCode', 'unauthorized', () => sdk.runCode(wrong, s, '1'))
    await failing('wrong key: uploadFile', 'unauthorized', () => sdk.uploadFile(wrong, s, 'x.txt', 'x'))
    const faults: [string, AgbErrorCode, Parameters<typeof h.local.faults.add>[0], () => Promise<unknown>][] = [
      ['500 on run_code', 'server_error', { tool: 'run_code', kind: 'status', status: 500 }, () => sdk.runCode(client, s, '1')],
      ['503 on status, every attempt', 'server_error', { route: '/mcp/getSessionInfo', kind: 'status', status: 503, times: 3 }, () => sdk.getSessionStatus(client, s)],
      ['429 on shell', 'rate_limited', { tool: 'shell', kind: 'retry-after', retryAfter: 0.01 }, () => sdk.exec(client, s, 'true')],
      ['malformed JSON on getSession', 'invalid_response', { route: '/mcp/getSession', kind: 'malformed-json' }, () => sdk.getSession(client, s)],
      ['HTML page on write_file', 'server_error', { tool: 'write_file', kind: 'html' }, () => sdk.writeFile(client, s, '/tmp/x', 'x')],
      ['empty body on labels', 'invalid_response', { route: '/sdk/GetLabel', kind: 'empty' }, () => sdk.getLabels(client, s)],
      ['success:false on keepAlive', 'api_error', { route: '/mcp/refreshSessionIdleTime', kind: 'envelope-failure', status: 400 }, () => sdk.keepAlive(client, s)],
      ['isError on read_file', 'tool_error', { tool: 'get_file_info', kind: 'tool-error', message: 'denied' }, () => sdk.readFile(client, s, '/tmp/oss.txt')],
      ['wrong schema on metrics', 'invalid_response', { tool: 'get_metrics', kind: 'schema' }, () => sdk.getMetrics(client, s)],
      ['hang on listSessions', 'timeout', { route: '/sdk/ListSession', kind: 'hang', times: 3 }, () => sdk.listSessions(client, { timeout: 300 })],
      ['drop on shell', 'network', { tool: 'shell', kind: 'drop' }, () => sdk.exec(client, s, 'true')],
      ['slow drip on createSession', 'timeout', { route: '/mcp/createSession', kind: 'slow-drip', intervalMs: 50 }, () => sdk.createSession(client, { imageId: IMAGE, timeout: 400 })],
      ['403 on the presigned download URL', 'unauthorized', { route: '/oss/*', kind: 'status', status: 403 }, () => sdk.downloadFile(client, s, '/home/user/up.txt', { pollInterval: 20 })],
    ]
    for (const [step, code, fault, run] of faults) {
      h.local.faults.clear()
      h.local.faults.add(fault)
      await failing(step, code, run)
    }
    h.local.faults.clear()
    await failing('invalid language', 'invalid_input', () => sdk.runCode(client, s, '1', { language: 'cobol' as never }))
    await failing('missing file download', 'tool_error', () => sdk.downloadFile(client, s, '/home/user/none.bin', { pollInterval: 20 }))
    await failing('wrong OSS secret', 'tool_error', async () => {
      await sdk.ossEnvInit(client, s, { accessKeyId: h.local.oss.accessKeyId, accessKeySecret: 'wrong-secret', endpoint: h.local.oss.endpoint(h.url) })
      return sdk.uploadOss(client, s, { bucket: h.local.oss.bucket, object: 'x', path: '/home/user/up.txt' })
    })
    await failing('refused connection', 'network', () => sdk.getSessionStatus(createClient({ apiKey: KEY, endpoint: 'http://127.0.0.1:9', retry: false }), s))
    // A caller's abort and a deadline, while the service does not answer.
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 200)
    h.local.faults.add({ tool: 'shell', kind: 'hang' })
    await failing('aborted command', 'aborted', () => sdk.exec(client, s, 'sleep 5', { signal: controller.signal }))
    h.local.faults.add({ tool: 'run_code', kind: 'hang' })
    await failing('timed-out cell', 'timeout', () => sdk.runCode(client, s, 'import time\ntime.sleep(5)', { timeout: 1_500 }))
    h.local.faults.clear()
    // Streaming over the session WebSocket, which carries the token (Node 20 without `ws`: unsupported).
    if (transport === 'loopback') {
      let out = ''
      await sdk.collectCode(sdk.streamCode(client, s, 'print("streamed")', { timeout: 10_000 }), { onStdout: (t) => (out += t) })
      expect(out).toBe('streamed\n')
    } else await failing('streaming without a reachable WebSocket', ['unsupported', 'network'], () => sdk.collectCode(sdk.streamCode(client, s, 'print(1)', { timeout: 3_000 })))
    // A deleted session.
    await sdk.deleteSession(client, other)
    await failing('runCode on a deleted session', 'session_not_found', () => sdk.runCode(client, other, '1'))
    expect(['FINISH', 'DELETED']).toContain((await sdk.getSessionStatus(client, other)).toUpperCase())
    await failing('info of a deleted session', 'session_not_found', () => sdk.sessionInfo(client, other.id))
    await failing('keepAlive of a deleted session', 'session_not_found', () => sdk.keepAlive(client, other))
    await failing('labels of a deleted session', 'session_not_found', () => sdk.setLabels(client, other, { a: 'b' }))
    await sdk.deleteSession(client, other) // twice: fine
    await sdk.deleteSession(client, s)
    void disposable
  }, 60_000)

  it('the API key travels only in the authorization header of API routes, session tokens nowhere but x-access-token', () => {
    harvest()
    const all = [...seen]
    expect(h.local.requests.length).toBeLessThan(1000) // nothing was dropped before being scanned
    // The scan covered API calls with the key, presigned transfers and the sandboxes' own S3 calls.
    expect(all.filter((r) => r.headers.authorization === bearer(KEY)).length).toBeGreaterThan(50)
    expect(all.filter((r) => r.headers.authorization === bearer(WRONG_KEY)).length).toBeGreaterThan(0)
    expect(all.filter((r) => r.url.includes('X-Amz-Signature')).length).toBeGreaterThanOrEqual(4)
    expect(all.filter((r) => new URL(r.url).pathname.startsWith('/oss/')).length).toBeGreaterThanOrEqual(6)
    expect(tokens.size).toBeGreaterThanOrEqual(4)
    // Over loopback the streaming WebSocket upgrade carried a token, in its header only.
    if (transport === 'loopback') expect(all.some((r) => tokens.has(r.headers['x-access-token'] ?? ''))).toBe(true)
    expect(requestLeaks(all, secrets())).toEqual([])
  })

  it('no error shows the key or a token: message, stack, String, JSON, inspect, console.log', () => {
    expect(errors.length).toBeGreaterThan(25)
    const found = errors.flatMap(({ step, error }) => shownSecrets(step, renderings(error), secrets()))
    expect(found).toEqual([])
  })

  it('no error exposes the key or a token through its properties (cause chain, getters)', () => {
    // What a logger that serialises whole error objects (cause, request options ...) could print.
    const found = errors.flatMap(({ step, error }) => reachableSecrets(error, secrets()).map((where) => `${step}: ${where}`))
    expect(found).toEqual([])
  })

  it('JSON.stringify, util.inspect and console.log of the client and of session handles show neither', () => {
    expect(sessions.length).toBeGreaterThanOrEqual(4)
    const shown = (value: unknown): Record<string, string> => ({
      json: JSON.stringify(value),
      inspect: inspect(value, { depth: 5 }),
      'console.log': format(value),
      'console.log %s': format('%s', value),
      'console.log %j': format('%j', value),
      'console.log %O': format('%O', value),
      template: `${value as string}`,
    })
    const found = [
      ...clients.flatMap((c, i) => shownSecrets(`client #${i + 1}`, shown(c), secrets())),
      ...sessions.flatMap((s, i) => shownSecrets(`session #${i + 1}`, shown(s), secrets())),
    ]
    expect(found).toEqual([])
    // The handle still knows its token: it is hidden, not lost.
    expect(sessions[0]!.token).toBe([...tokens][0])
  })

  it('no inspection, serialisation or copy of a client reaches its key (it is not on the object at all)', () => {
    const views = (c: object): Record<string, string> => {
      const all: Record<string, string> = {}
      for (const showHidden of [false, true]) {
        for (const getters of [false, true]) {
          for (const depth of [0, 5, Infinity]) all[`inspect ${showHidden}/${getters}/${depth}`] = inspect(c, { showHidden, getters, depth, showProxy: true })
        }
      }
      all.json = JSON.stringify(c)
      all.descriptors = inspect(Object.getOwnPropertyDescriptors(c), { showHidden: true, getters: true, depth: Infinity })
      all.ownKeys = Reflect.ownKeys(c).map(String).join(',')
      all.values = inspect(Reflect.ownKeys(c).map((k) => (c as Record<PropertyKey, unknown>)[k]), { showHidden: true, getters: true, depth: Infinity })
      all.spread = inspect({ ...c }, { showHidden: true, getters: true, depth: Infinity })
      all.assign = JSON.stringify(Object.assign({}, c))
      let cloned: unknown
      try {
        cloned = structuredClone(c)
      } catch (error) {
        cloned = String(error)
      }
      all.structuredClone = inspect(cloned, { showHidden: true, getters: true, depth: Infinity })
      all['console.log %o'] = format('%o', c)
      return all
    }
    expect(clients.length).toBeGreaterThan(0)
    const found = clients.flatMap((c, i) => shownSecrets(`client #${i + 1}`, views(c), secrets()))
    expect(found).toEqual([])
  })

  it('even console.log("%o") and inspect with showHidden show neither', () => {
    const shown = (value: unknown) => ({ 'console.log %o': format('%o', value), 'inspect showHidden': inspect(value, { showHidden: true, depth: 5 }) })
    const found = [...clients.flatMap((c, i) => shownSecrets(`client #${i + 1}`, shown(c), secrets())), ...sessions.flatMap((s, i) => shownSecrets(`session #${i + 1}`, shown(s), secrets()))]
    expect(found).toEqual([])
  })

  it('hooks receive redacted summaries: no key, no token, no query string', () => {
    expect(events.filter((e) => 'status' in e).length).toBeGreaterThan(50)
    expect(shownSecrets('hook events', { json: JSON.stringify(events) }, secrets())).toEqual([])
    for (const e of events) {
      expect(Object.keys(e).sort()).toEqual(('status' in e ? ['attempt', 'durationMs', 'method', 'requestId', 'status', 'url', ...('error' in e ? ['error'] : [])] : ['attempt', 'method', 'url']).sort())
      expect(e.url).not.toContain('?')
    }
  })
})

describe('the scanner itself', () => {
  it('flags every misplaced secret it is shown', () => {
    const token = 'tok-123456'
    const secrets: Secret[] = [
      { name: 'key', value: KEY, allowedIn: { header: 'authorization', value: (k) => `Bearer ${k}`, where: isApiRoute } },
      { name: 'token', value: token, allowedIn: { header: 'x-access-token', value: (t) => t, where: () => true } },
    ]
    const req = (url: string, headers: Record<string, string>, body = ''): RecordedRequest => ({ method: 'POST', url, headers, body })
    const ok = [req('http://h/mcp', { authorization: `Bearer ${KEY}` }), req('http://h/ws/s-1', { 'x-access-token': token })]
    expect(requestLeaks(ok, secrets)).toEqual([])
    const bad = [
      req(`http://h/mcp?key=${KEY}`, {}),
      req('http://h/mcp', {}, `{"k":"${KEY}"}`),
      req('http://h/mcp', { 'x-api-key': KEY }),
      req('http://h/oss/b/k', { authorization: `Bearer ${KEY}` }),
      req('http://h/link/s-1/callTool', { authorization: `Basic ${btoa(KEY)}` }),
      req('http://h/mcp', { authorization: `Bearer ${token}` }),
      req('http://h/link/s-1/callTool', {}, `{"token":"${token}"}`),
    ]
    for (const r of bad) expect(requestLeaks([r], secrets).length, `${r.url} ${JSON.stringify(r.headers)} ${r.body}`).toBeGreaterThan(0)
    expect(shownSecrets('e', renderings(new Error(`x ${KEY}`)), secrets).length).toBeGreaterThan(0)
    expect(reachableSecrets({ cause: { options: { headers: new Headers({ authorization: `Bearer ${KEY}` }) } } }, secrets)).toEqual(['key at error.cause.options.headers.headers[authorization]'])
  })
})
