// Attacks on agb-micro/proxy, the handler that faces hostile browsers, in front of a real AGB
// Local (its handler injected as the proxy's upstream fetch: every session is a real sandbox).
// Each attack is performed and must be refused; afterAll prints the table of attacks and what
// happened. The application's login here is a session cookie (`sid`) looked up in a table, as a
// real app's session store would: alice and bob are two signed-in users of one page.
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, createSession, deleteSession, exec, getLabels, isAgbError, listSessions, runCode, setLabels, type Client } from '../../../src/index.ts'
import { createProxyHandler, PROXY_CLIENT_LABEL, PROXY_LABEL, type ProxyOptions } from '../../../src/proxy.ts'
import { createAgbLocal } from '../../../server/createAgbLocal.ts'
import type { AgbLocal } from '../../../server/types.ts'

const IMAGE = 'agb-code-space-1'
const APP = 'https://app.example'
const USERS: Record<string, string> = { 'sid-alice': 'alice', 'sid-bob': 'bob' }
type User = 'alice' | 'bob'
type Json = Record<string, unknown>
type Handler = (request: Request) => Promise<Response>

/** The application's login check: the `sid` cookie → the signed-in user, else null (401). */
const authorize = (request: Request): string | null => {
  const sid = /(?:^|;\s*)sid=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1]
  return (sid && USERS[sid]) || null
}

let local: AgbLocal
/** A key-holding client straight to AGB Local: sessions no browser was given, and ground truth. */
let direct: Client
const rows: { attack: string; before: string; now: string }[] = []
const record = (attack: string, before: string, now: string) => void rows.push({ attack, before, now })

beforeAll(() => {
  local = createAgbLocal()
  direct = createClient({ apiKey: local.apiKey, endpoint: 'http://agb.local', fetch: local.fetch })
})

afterAll(async () => {
  await local.close()
  const table = ['| attack | before | now |', '|---|---|---|', ...rows.map((r) => `| ${r.attack} | ${r.before} | ${r.now} |`)].join('\n')
  console.log(`\nagb-micro/proxy attacks (${rows.length}):\n\n${table}\n`)
})

const makeProxy = (options: Partial<ProxyOptions> = {}): Handler =>
  createProxyHandler({ apiKey: local.apiKey, endpoint: 'http://agb.local', fetch: local.fetch, authorize, basePath: '/agb', imageIds: [IMAGE], ...options })

/** A keyless browser client of `user` on the app's own origin: its page sends the cookie and `Origin` like a browser. */
const browserOf = (proxy: Handler, user: User): Client =>
  createClient({
    endpoint: `${APP}/agb`,
    proxy: true,
    fetch: (input, init) => proxy(new Request(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), cookie: `sid=sid-${user}`, origin: APP } })),
  })

interface Sent {
  status: number
  json: Json
  headers: Headers
}

/** One raw request to the proxy, as a hostile page or script would craft it. */
async function send(
  proxy: Handler,
  method: string,
  path: string,
  o: { query?: string; body?: unknown; raw?: BodyInit; as?: User | null; origin?: string | null; headers?: Record<string, string> } = {},
): Promise<Sent> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...o.headers }
  if (o.as !== null) headers.cookie = `sid=sid-${o.as ?? 'alice'}`
  if (o.origin !== null) headers.origin = o.origin ?? APP
  const request = new Request(`${APP}/agb${path}${o.query ? `?${o.query}` : ''}`, {
    method,
    headers,
    ...(method === 'POST' ? { body: o.raw ?? JSON.stringify(o.body ?? {}), duplex: 'half' } : {}),
  } as RequestInit)
  const response = await proxy(request)
  const text = await response.text()
  let json: Json = {}
  try {
    json = JSON.parse(text) as Json
  } catch {
    json = { text }
  }
  return { status: response.status, json, headers: response.headers }
}

const outcome = (s: Sent) => `${s.status} ${String(s.json.code ?? '')}`.trim()
/** Requests AGB Local received from index `from` on whose URL or body `text` appears. */
const upstreamMentions = (from: number, text: string) => local.requests.slice(from).filter((r) => r.url.includes(text) || r.body.includes(text))
const upstreamCalls = (from: number, path: string) => local.requests.slice(from).filter((r) => new URL(r.url).pathname === path)
const labelsOf = async (id: string) => getLabels(direct, id)
/** Live sessions upstream carrying this proxy's label. */
const liveThrough = async (name = 'default') => {
  const ids: string[] = []
  for await (const s of listSessions(direct, { labels: { [PROXY_LABEL]: name } })) ids.push(s.id)
  return ids
}
const deleteAll = async (name = 'default') => {
  for (const id of await liveThrough(name)) await deleteSession(direct, id, { wait: false })
}
const rawId = (signed: string) => signed.slice(0, signed.lastIndexOf('~'))

describe('privacy: every session belongs to the client that created it', () => {
  it('bob cannot list, read from, run in, relabel or delete alice’s session', async () => {
    const proxy = makeProxy()
    const alice = browserOf(proxy, 'alice')
    const bob = browserOf(proxy, 'bob')
    const session = await createSession(alice, { imageId: IMAGE })
    await exec(alice, session, 'echo alice-secret > /tmp/secret.txt')
    const bobs = await createSession(bob, { imageId: IMAGE })

    const listed = (await listSessions(bob)).sessions.map((s) => s.id)
    expect(listed).toEqual([bobs.id])
    expect((await listSessions(alice)).sessions.map((s) => s.id)).toEqual([session.id])
    record('B lists sessions (`ListSession`) after A created one', "A's signed id listed", `only B's own (${listed.length}); 0 of A's`)

    // Even naming alice's client label in the filter gives bob nothing of hers.
    const aliceTag = (await labelsOf(rawId(session.id)))[PROXY_CLIENT_LABEL]!
    const filtered = await send(proxy, 'GET', '/sdk/ListSession', { as: 'bob', query: `labels=${encodeURIComponent(JSON.stringify({ [PROXY_CLIENT_LABEL]: aliceTag }))}` })
    expect(filtered.status).toBe(403)
    expect(JSON.stringify(filtered.json)).not.toContain(rawId(session.id))
    record("B lists with A's client label as filter", '—', `${outcome(filtered)}, A's id not in the answer`)

    const from = local.requests.length
    const cat = await exec(bob, session.id, 'cat /tmp/secret.txt').catch((e: unknown) => e)
    expect(isAgbError(cat, 'unauthorized')).toBe(true)
    expect((cat as Error).message).toMatch(/not created through this proxy for this user/)
    const run = await runCode(bob, session.id, "open('/tmp/secret.txt').read()").catch((e: unknown) => e)
    expect(isAgbError(run, 'unauthorized')).toBe(true)
    const relabel = await setLabels(bob, session.id, { owner: 'bob' }).catch((e: unknown) => e)
    expect(isAgbError(relabel, 'unauthorized')).toBe(true)
    const removed = await deleteSession(bob, session.id).catch((e: unknown) => e)
    expect(isAgbError(removed, 'unauthorized')).toBe(true)
    expect(upstreamMentions(from, rawId(session.id))).toEqual([])
    record("B runs `cat` in A's session with A's signed id", 'ran, printed the file', '403 Forbidden (unauthorized), nothing forwarded')
    record("B deletes / relabels A's session", 'forwarded', '403 Forbidden, nothing forwarded')

    // Alice's session is untouched and still hers.
    expect((await exec(alice, session, 'cat /tmp/secret.txt')).stdout).toBe('alice-secret\n')
    await Promise.all([deleteSession(alice, session), deleteSession(bob, bobs)])
  })

  it('lists only the caller’s sessions even from a service that ignores the label filter', async () => {
    // A misbehaving upstream: ListSession answers as if no labels had been asked for.
    const careless: ProxyOptions['fetch'] = (input, init) => {
      const url = new URL(String(input))
      if (url.pathname === '/sdk/ListSession') url.searchParams.delete('labels')
      return local.fetch(url.href, init)
    }
    const proxy = makeProxy({ name: 'careless', fetch: careless, maxSessionsPerClient: 100 })
    const alice = browserOf(proxy, 'alice')
    const bob = browserOf(proxy, 'bob')
    const hers = await createSession(alice, { imageId: IMAGE })
    const his = await createSession(bob, { imageId: IMAGE })
    const foreign = await createSession(direct, { imageId: IMAGE })
    const listed = await send(proxy, 'GET', '/sdk/ListSession', { as: 'bob', query: 'maxResults=20' })
    expect(listed.status).toBe(200)
    expect((listed.json.data as { sessionId: string }[]).map((s) => s.sessionId)).toEqual([his.id])
    expect(JSON.stringify(listed.json)).not.toContain(rawId(hers.id))
    expect(JSON.stringify(listed.json)).not.toContain(foreign.id)
    record('B lists through a service that ignores the label filter', '—', "only B's own: each listed session's labels are checked")
    await Promise.all([deleteSession(alice, hers), deleteSession(bob, his), deleteSession(direct, foreign)])
  })

  it('a signed id is valid only for its client, kind and proxy name, and forgeries fail', async () => {
    const proxy = makeProxy()
    const alice = browserOf(proxy, 'alice')
    const session = await createSession(alice, { imageId: IMAGE })
    const id = session.id
    const raw = rawId(id)
    const signature = id.slice(raw.length + 1)
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1)
    const forged = [raw, `${raw}~`, `${raw}~forged`, `${raw}~${flip(signature, 0)}`, `${raw}~${flip(signature, signature.length - 1)}`, `${raw}~${signature.slice(0, -2)}`, `${raw}x~${signature}`]
    const from = local.requests.length
    for (const candidate of forged) {
      const answer = await send(proxy, 'POST', '/mcp/getSessionInfo', { body: { sessionId: candidate } })
      expect(answer.status, candidate).toBe(403)
    }
    // Another proxy on the same key but another name, and the same id used as a context id.
    const other = makeProxy({ name: 'other-app' })
    const elsewhere = await send(other, 'POST', '/mcp/getSessionInfo', { body: { sessionId: id } })
    expect(elsewhere.status).toBe(403)
    const withTransfer = makeProxy({ allow: ['sessions', 'transfer'] })
    const asContext = await send(withTransfer, 'POST', '/sdk/GetContextFileDownloadUrl', { query: `contextId=${encodeURIComponent(id)}&filePath=/tmp/x` })
    expect(asContext.status).toBe(403)
    expect(asContext.json.message).toMatch(/unknown context in contextId/)
    expect(upstreamMentions(from, raw)).toEqual([])
    // The genuine id still works.
    expect((await send(proxy, 'POST', '/mcp/getSessionInfo', { body: { sessionId: id } })).status).toBe(200)
    record('forged, truncated, bit-flipped or unsigned session ids', '`~forged` refused; unsigned refused', `all ${forged.length} refused 403, nothing forwarded`)
    record("A's id at a proxy with another `name`, or as a context id", 'accepted (signature covered only the id)', '403 Forbidden')
    await deleteSession(alice, session)
  })
})

describe('authentication: the proxy is closed unless the application opens it', () => {
  it('cannot be created without authorize unless public: true is explicit', () => {
    expect(() => createProxyHandler({ apiKey: local.apiKey, fetch: local.fetch } as ProxyOptions)).toThrow(/needs authorize/)
    record('`createProxyHandler({ apiKey })` with no login check', 'open to anyone who reaches /agb', 'throws invalid_input: needs authorize or public: true')
  })

  it('answers 401 to a caller authorize refuses, before anything reaches AGB', async () => {
    const proxy = makeProxy()
    const from = local.requests.length
    const live = local.liveSessions()
    const anonymous = await send(proxy, 'POST', '/mcp/createSession', { as: null, query: `imageId=${IMAGE}` })
    expect(anonymous.status).toBe(401)
    expect(anonymous.json).toMatchObject({ success: false, code: 'Unauthorized' })
    const wrongCookie = await send(proxy, 'GET', '/sdk/ListSession', { as: null, headers: { cookie: 'sid=guessed' } })
    expect(wrongCookie.status).toBe(401)
    expect(local.requests.length - from).toBe(0)
    expect(local.liveSessions()).toBe(live)
    record('create a session with no / a guessed login cookie', 'session created on your key', '401 Unauthorized, 0 upstream requests')
  })

  it('answers 500 (not a crash) when authorize throws or returns a non-string', async () => {
    for (const bad of [() => Promise.reject(new Error('db down')), () => '' as string | null, () => 42 as unknown as string]) {
      const proxy = makeProxy({ authorize: bad })
      const answer = await send(proxy, 'GET', '/sdk/ListSession')
      expect(answer.status).toBe(500)
      expect(String(answer.json.message)).not.toContain('db down')
    }
  })
})

describe('limits hold under concurrency', () => {
  /** AGB Local behind 40 ms of latency, as a real service over the internet: concurrent creates really overlap. */
  const distant = (): ProxyOptions['fetch'] => async (input, init) => {
    await new Promise((resolve) => setTimeout(resolve, 40))
    return local.fetch(input, init)
  }

  it('maxSessions 2: of 8 concurrent creates from two users exactly 2 succeed', async () => {
    const proxy = makeProxy({ name: 'limit-total', maxSessions: 2, fetch: distant() })
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => send(proxy, 'POST', '/mcp/createSession', { as: i % 2 ? 'bob' : 'alice', query: `imageId=${IMAGE}` })))
    const created = answers.filter((a) => a.status === 200)
    expect(created).toHaveLength(2)
    expect(answers.filter((a) => a.status === 429 && a.json.code === 'Throttling.SessionLimit')).toHaveLength(6)
    expect(await liveThrough('limit-total')).toHaveLength(2)
    record('8 concurrent creates, `maxSessions: 2`', '8 of 8 created', `${created.length} created, ${answers.length - created.length} × 429; 2 live upstream`)
    await deleteAll('limit-total')
  })

  it('maxSessionsPerClient 1: of 8 concurrent creates by one user exactly 1 succeeds, and another user still gets one', async () => {
    const proxy = makeProxy({ name: 'limit-client', maxSessionsPerClient: 1, fetch: distant() })
    const answers = await Promise.all(Array.from({ length: 8 }, () => send(proxy, 'POST', '/mcp/createSession', { query: `imageId=${IMAGE}` })))
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1)
    expect(answers.filter((a) => a.status === 429)).toHaveLength(7)
    const bob = await send(proxy, 'POST', '/mcp/createSession', { as: 'bob', query: `imageId=${IMAGE}` })
    expect(bob.status).toBe(200)
    expect(await liveThrough('limit-client')).toHaveLength(2)
    record('8 concurrent creates by one user, `maxSessionsPerClient: 1`', 'no per-user limit', '1 created, 7 × 429; other user still gets 1')
    await deleteAll('limit-client')
  })

  it('a browser cannot drop or change the proxy’s labels to escape the count', async () => {
    const proxy = makeProxy({ name: 'limit-labels', maxSessions: 2, labels: { app: 'demo' } })
    const alice = browserOf(proxy, 'alice')
    const a = await createSession(alice, { imageId: IMAGE, retry: false })
    const b = await createSession(alice, { imageId: IMAGE, retry: false })
    const own = await labelsOf(rawId(a.id))
    expect(own).toMatchObject({ [PROXY_LABEL]: 'limit-labels', app: 'demo' })

    // SetLabel replaces all labels: the proxy puts its own back.
    await setLabels(alice, a, { mine: 'yes' })
    expect(await labelsOf(rawId(a.id))).toEqual({ [PROXY_LABEL]: own[PROXY_LABEL], [PROXY_CLIENT_LABEL]: own[PROXY_CLIENT_LABEL], app: 'demo', mine: 'yes' })
    // Changing one of them is refused outright, in SetLabel and in createSession.
    for (const labels of [{ [PROXY_LABEL]: 'gone' }, { [PROXY_CLIENT_LABEL]: 'x' }, { app: 'other' }]) {
      const changed = await send(proxy, 'POST', '/sdk/SetLabel', { query: `sessionId=${encodeURIComponent(b.id)}&Labels=${encodeURIComponent(JSON.stringify(labels))}` })
      expect(changed.status, JSON.stringify(labels)).toBe(403)
    }
    const lowercase = await send(proxy, 'POST', '/sdk/SetLabel', { query: `sessionId=${encodeURIComponent(b.id)}&Labels=${encodeURIComponent('{"k":"v"}')}&labels=${encodeURIComponent('{"k":"v"}')}` })
    expect(lowercase.status).toBe(200)
    expect((await labelsOf(rawId(b.id)))[PROXY_LABEL]).toBe('limit-labels')
    const viaCreate = await send(proxy, 'POST', '/mcp/createSession', { query: `imageId=${IMAGE}`, body: { labels: JSON.stringify({ [PROXY_LABEL]: 'elsewhere' }) } })
    expect(viaCreate.status).toBe(403)
    // Nor can it pick the sandbox policy.
    const policy = await send(proxy, 'POST', '/mcp/createSession', { query: `imageId=${IMAGE}`, body: { mcpPolicyId: 'policy-without-limits' } })
    expect(policy.status).toBe(403)
    record('createSession choosing its own `mcpPolicyId`', 'forwarded', outcome(policy))

    const third = await send(proxy, 'POST', '/mcp/createSession', { query: `imageId=${IMAGE}` })
    expect(third.status).toBe(429)
    expect(await liveThrough('limit-labels')).toHaveLength(2)
    record('`SetLabel` dropping / changing the proxy label, then more creates (`maxSessions: 2`)', '4 live with a limit of 2', 'labels kept (drop) or 403 (change); 3rd create 429; 2 live')
    await deleteAll('limit-labels')
  })
})

describe('every id anywhere is checked before anything is forwarded', () => {
  it('refuses unsigned or foreign ids in the body, other spellings, duplicates, nested args and mounts', async () => {
    const proxy = makeProxy()
    const alice = browserOf(proxy, 'alice')
    const mine = await createSession(alice, { imageId: IMAGE })
    const foreign = await createSession(direct, { imageId: IMAGE })
    const q = (extra: string) => `sessionId=${encodeURIComponent(mine.id)}${extra}`
    const attacks: [string, Promise<Sent>][] = [
      ['`refreshSessionIdleTime` with an upstream id in the body', send(proxy, 'POST', '/mcp/refreshSessionIdleTime', { query: q(''), body: { sessionId: foreign.id } })],
      ['`GetLabel?SessionId=<upstream id>` (another spelling)', send(proxy, 'GET', '/sdk/GetLabel', { query: q(`&SessionId=${foreign.id}`) })],
      ['`getSession` with an upstream id in the query', send(proxy, 'POST', '/mcp/getSession', { query: `sessionId=${foreign.id}`, body: { sessionId: mine.id } })],
      ['tool call whose JSON `args` carry an upstream `sessionId`', send(proxy, 'POST', '/mcp', { body: { sessionId: mine.id, name: 'shell', args: JSON.stringify({ command: 'id', sessionId: foreign.id }) } })],
      ['createSession mounting an unsigned context (`persistenceDataList`)', send(proxy, 'POST', '/mcp/createSession', { query: `imageId=${IMAGE}`, body: { persistenceDataList: [{ contextId: 'ctx-of-someone', path: '/tmp/x', policy: '{}' }] } })],
    ]
    const from = local.requests.length
    for (const [attack, pending] of attacks) {
      const answer = await pending
      expect(answer.status, attack).toBe(403)
      record(attack, attack.startsWith('`refresh') ? 'forwarded' : '—', outcome(answer))
    }
    // A duplicate key inside `args` (upstream id first, then the signed one): what is checked is what is sent.
    const dupArgs = await send(proxy, 'POST', '/mcp', { body: { sessionId: mine.id, name: 'shell', args: `{"command":"true","sessionId":"${foreign.id}","sessionId":${JSON.stringify(mine.id)}}` } })
    expect(dupArgs.status).toBe(200)
    expect(upstreamCalls(from, '/mcp').at(-1)!.body).toContain(`\\"sessionId\\":\\"${rawId(mine.id)}\\"`)
    record('tool `args` naming a session twice (upstream id, then signed)', '—', 'forwarded re-encoded with the checked id only')
    const twice = await send(proxy, 'GET', '/sdk/GetLabel', { query: q(`&sessionId=${foreign.id}`) })
    expect(twice.status).toBe(400)
    record('`sessionId` given twice (signed, then upstream)', '—', outcome(twice))
    // A tool call without a session must not let the service make one (autoGenSession).
    const autoGen = await send(proxy, 'POST', '/mcp', { query: `autoGenSession=true&imageId=${IMAGE}`, body: { name: 'shell', args: '{"command":"id"}' } })
    expect(autoGen.status).toBe(400)
    record('tool call without a session, `?autoGenSession=true`', '—', outcome(autoGen))
    expect(upstreamMentions(from, foreign.id)).toEqual([])
    expect(upstreamMentions(from, 'ctx-of-someone')).toEqual([])
    expect(upstreamCalls(from, '/mcp/createSession')).toEqual([])
    expect(upstreamCalls(from, '/mcp')).toHaveLength(1)
    // A tool call goes out with autoGenSession=false whatever the browser asked for.
    const callFrom = local.requests.length
    const tool = await send(proxy, 'POST', '/mcp', { query: `autoGenSession=true&imageId=${IMAGE}`, body: { sessionId: mine.id, name: 'shell', args: '{"command":"true"}' } })
    expect(tool.status).toBe(200)
    const forwarded = new URL(upstreamCalls(callFrom, '/mcp').at(-1)!.url).searchParams
    expect([forwarded.get('autoGenSession'), forwarded.has('imageId')]).toEqual(['false', false])
    // Keys the route does not take never reach the service: isAll lists finished sessions too.
    const before = local.requests.length
    expect((await send(proxy, 'GET', '/sdk/ListSession', { query: 'isAll=true&maxResults=5' })).status).toBe(200)
    expect(new URL(local.requests.at(-1)!.url).searchParams.has('isAll')).toBe(false)
    expect(local.requests.length).toBeGreaterThan(before)
    await deleteSession(alice, mine)
    await deleteSession(direct, foreign)
  })
})

describe('request bodies are bounded', () => {
  /** A body stream of `total` bytes made on demand, counting what the proxy pulled. */
  const bigBody = (total: number, chunk = 64 * 1024) => {
    const state = { pulled: 0 }
    const bytes = new Uint8Array(chunk).fill(0x61)
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (state.pulled >= total) return controller.close()
        state.pulled += chunk
        controller.enqueue(bytes)
      },
    })
    return { stream, state }
  }

  it('stops reading a 300 MB body at maxBodyBytes (1 MiB) and answers 413', async () => {
    const proxy = makeProxy()
    const rssBefore = process.memoryUsage().rss
    const { stream, state } = bigBody(300 * 1024 * 1024)
    const answer = await send(proxy, 'POST', '/mcp/createSession', { query: `imageId=${IMAGE}`, raw: stream })
    const grown = process.memoryUsage().rss - rssBefore
    expect(answer.status).toBe(413)
    expect(answer.json).toMatchObject({ success: false, code: 'PayloadTooLarge' })
    expect(state.pulled).toBeLessThanOrEqual(1024 * 1024 + 2 * 64 * 1024)
    expect(grown).toBeLessThan(64 * 1024 * 1024)
    record('300 MB chunked body (no Content-Length)', 'read whole', `413 after ${(state.pulled / 1024 / 1024).toFixed(2)} MiB read; RSS +${Math.max(0, Math.round(grown / 1024 / 1024))} MiB`)
  })

  it('over loopback, through a Node web adapter like the examples’, a 300 MB upload is cut off after a few MiB with 413', async () => {
    const proxy = makeProxy()
    // The adapter examples/browser/server.ts uses: Node's request as a web Request, streamed.
    const server = createServer((req, res) => {
      const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, body: Readable.toWeb(req) as ReadableStream, duplex: 'half' } as RequestInit)
      void proxy(request)
        .then(async (response) => res.writeHead(response.status, Object.fromEntries(response.headers)).end(Buffer.from(await response.arrayBuffer())))
        .catch(() => res.destroy())
    })
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
    const { port } = server.address() as AddressInfo
    const rssBefore = process.memoryUsage().rss
    const total = 300 * 1024 * 1024
    let written = 0
    const chunk = Buffer.alloc(64 * 1024, 0x61)
    const answer = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: `/agb/mcp/createSession?imageId=${IMAGE}`, headers: { cookie: 'sid=sid-alice', 'content-type': 'application/json' } })
      req.on('response', (res) => {
        resolve(`HTTP ${res.statusCode}`)
        res.resume()
      })
      req.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`))
      // Writes as fast as the socket takes it; stops when the server stops reading.
      const pump = () => {
        while (written < total) {
          written += chunk.length
          if (!req.write(chunk)) return void req.once('drain', pump)
        }
        req.end()
      }
      pump()
    })
    const grown = process.memoryUsage().rss - rssBefore
    server.closeAllConnections()
    await new Promise((closed) => server.close(closed))
    expect(answer).toBe('HTTP 413')
    // What the client got into the socket: the 1 MiB read plus kernel and stream buffers.
    expect(written).toBeLessThan(32 * 1024 * 1024)
    expect(grown).toBeLessThan(64 * 1024 * 1024)
    record('300 MB upload over loopback (Node adapter)', 'read whole: proxy grew 65 → 939 MiB', `${answer} after ${(written / 1024 / 1024).toFixed(1)} MiB sent; RSS +${Math.max(0, Math.round(grown / 1024 / 1024))} MiB`)
  })

  it('refuses a declared Content-Length over the cap before reading a byte', async () => {
    const proxy = makeProxy()
    const { stream, state } = bigBody(300 * 1024 * 1024)
    const answer = await send(proxy, 'POST', '/mcp/createSession', { query: `imageId=${IMAGE}`, raw: stream, headers: { 'content-length': String(300 * 1024 * 1024) } })
    expect(answer.status).toBe(413)
    // A stream may prefetch one chunk when it is set up; the proxy itself reads none.
    expect(state.pulled).toBeLessThanOrEqual(64 * 1024)
    record('`Content-Length: 314572800`', 'read whole', `413, ${state.pulled / 1024} KiB pulled`)
  })

  it('still takes a body under the cap, and a smaller cap when configured', async () => {
    const proxy = makeProxy({ maxBodyBytes: 4096 })
    const alice = browserOf(proxy, 'alice')
    const session = await createSession(alice, { imageId: IMAGE })
    const small = await send(proxy, 'POST', '/mcp/getSessionInfo', { body: { sessionId: session.id, pad: 'x'.repeat(3000) } })
    expect(small.status).toBe(200)
    const big = await send(proxy, 'POST', '/mcp/getSessionInfo', { body: { sessionId: session.id, pad: 'x'.repeat(5000) } })
    expect(big.status).toBe(413)
    await deleteSession(alice, session)
  })
})

describe('cross-site requests cannot change anything', () => {
  it('refuses state-changing requests from foreign origins before forwarding, whatever the content type', async () => {
    const proxy = makeProxy({ origins: ['https://partner.example'] })
    const from = local.requests.length
    const live = local.liveSessions()
    const forged: [string, Record<string, string>, string | null][] = [
      ['`text/plain` POST from another origin', { 'content-type': 'text/plain' }, 'https://evil.example'],
      ['POST with `Origin: null` (sandboxed frame)', { 'content-type': 'text/plain' }, 'null'],
      ['POST from a sibling subdomain', {}, 'https://evil.app.example'],
      ['POST without Origin, `Sec-Fetch-Site: cross-site`', { 'sec-fetch-site': 'cross-site' }, null],
      ['POST without Origin, `Sec-Fetch-Site: same-site`', { 'sec-fetch-site': 'same-site' }, null],
    ]
    for (const [attack, headers, origin] of forged) {
      const answer = await send(proxy, 'POST', '/mcp/createSession', { query: `imageId=${IMAGE}`, headers, origin, raw: '{}' })
      expect(answer.status, attack).toBe(403)
      expect(answer.headers.get('access-control-allow-origin'), attack).toBeNull()
      record(`CSRF: ${attack}`, attack.includes('text/plain') ? 'session created' : '—', outcome(answer))
    }
    expect(local.requests.length - from).toBe(0)
    expect(local.liveSessions()).toBe(live)
  })

  it('lets the own origin, listed origins and non-browser callers through', async () => {
    const proxy = makeProxy({ origins: ['https://partner.example'] })
    const allowed: [string | null, Record<string, string>][] = [
      [APP, {}],
      ['https://partner.example', {}],
      [null, { 'sec-fetch-site': 'same-origin' }],
      [null, {}],
    ]
    for (const [origin, headers] of allowed) {
      const answer = await send(proxy, 'POST', '/mcp/listTools', { query: `imageId=${IMAGE}`, origin, headers })
      expect(answer.status, String(origin)).toBe(200)
    }
    const partner = await send(proxy, 'POST', '/mcp/listTools', { query: `imageId=${IMAGE}`, origin: 'https://partner.example' })
    expect(partner.headers.get('access-control-allow-origin')).toBe('https://partner.example')
    expect(partner.headers.get('access-control-allow-credentials')).toBe('true')
  })
})

describe('bad input is answered with a 4xx envelope, never a throw', () => {
  it('answers 400 to bad stream options and malformed requests', async () => {
    const proxy = makeProxy()
    const alice = browserOf(proxy, 'alice')
    const session = await createSession(alice, { imageId: IMAGE })
    const bad: [string, string, string, { query?: string; body?: unknown; raw?: string }][] = [
      ["stream `language: 'cobol'`", 'POST', '/agb-micro/stream', { body: { sessionId: session.id, code: '1', language: 'cobol' } }],
      ['stream `timeout: -1`', 'POST', '/agb-micro/stream', { body: { sessionId: session.id, code: '1', timeout: -1 } }],
      ['stream `timeout: "soon"`', 'POST', '/agb-micro/stream', { body: { sessionId: session.id, code: '1', timeout: 'soon' } }],
      ['stream without `code`', 'POST', '/agb-micro/stream', { body: { sessionId: session.id } }],
      ['stream without `sessionId`', 'POST', '/agb-micro/stream', { body: { code: '1' } }],
      ['body that is not JSON', 'POST', '/mcp/getSessionInfo', { raw: '{"sessionId":' }],
      ['body that is a JSON array', 'POST', '/mcp/getSessionInfo', { raw: '[1,2]' }],
      ['body nested 10 000 levels deep', 'POST', '/mcp/getSessionInfo', { raw: `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}` }],
      ['createSession `labels` not a JSON object', 'POST', '/mcp/createSession', { query: `imageId=${IMAGE}`, body: { labels: '{' } }],
      ['ListSession `maxResults=abc`', 'GET', '/sdk/ListSession', { query: 'maxResults=abc' }],
      ['ListSession `labels=[1]`', 'GET', '/sdk/ListSession', { query: 'labels=%5B1%5D' }],
      ['SetLabel without `Labels`', 'POST', '/sdk/SetLabel', { query: `sessionId=${encodeURIComponent(session.id)}` }],
    ]
    for (const [attack, method, path, o] of bad) {
      const answer = await send(proxy, method, path, o)
      expect(answer.status, attack).toBe(400)
      expect(answer.json, attack).toMatchObject({ success: false, code: 'InvalidParameter', httpStatusCode: 400 })
      // Before, a non-number timeout was silently ignored; a bad language or timeout made the handler throw.
      if (attack.startsWith('stream `')) record(`bad input: ${attack}`, attack.includes('soon') ? 'ignored' : 'handler threw', outcome(answer))
    }
    record(`bad input: ${bad.length - 3} other malformed requests (not JSON, array, 10 000-deep nesting, bad labels, bad maxResults ...)`, '—', 'each 400 InvalidParameter')
    // An HTML error page from upstream reaches the page as inert text, never as HTML on the app's origin.
    local.faults.add({ route: '/sdk/ListSession', kind: 'html', status: 502 })
    const html = await send(proxy, 'GET', '/sdk/ListSession')
    expect([html.status, html.headers.get('content-type'), html.headers.get('x-content-type-options')]).toEqual([502, 'text/plain; charset=utf-8', 'nosniff'])
    record('upstream HTML error page passed to the page', 'served as text/html', `${html.status}, text/plain + nosniff`)
    const nonString = await send(proxy, 'POST', '/mcp/getSessionInfo', { body: { sessionId: 42 } })
    expect(nonString.status).toBe(403)
    const unknown = await send(proxy, 'POST', '/mcp/deleteEverything')
    expect(unknown.status).toBe(404)
    await deleteSession(alice, session)
  })
})
