import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal, serve } from '../../../server/index.ts'
import type { AgbLocal, Server } from '../../../server/index.ts'
import { waitFor } from '../localClient.ts'
import { openWs } from '../wsClient.ts'
import type { WsTestClient } from '../wsClient.ts'
import { rawConnect, requestHead, startTarget } from './exhaustionRaw.ts'
import type { Target } from './exhaustionRaw.ts'

// Attacks on AGB Local's HTTP server itself: exhaustion (bodies, connections, WebSockets, slow
// senders, oversized uploads) and host confusion (forged Host, DNS rebinding). Sandboxed code
// shares the host network, so "the attacker" is any local process or session. Every attack
// runs against 127.0.0.1 only, with bounded counts and times; each row of the table printed at
// the end is an attack and what the server did.

const MiB = 1024 * 1024
const rows: Array<{ attack: string; expected: string; outcome: string }> = []
afterAll(() => {
  console.log(['', '| attack | expected | outcome |', '|---|---|---|', ...rows.map((r) => `| ${r.attack} | ${r.expected} | ${r.outcome} |`), ''].join('\n'))
})
const row = (attack: string, expected: string, outcome: string) => rows.push({ attack, expected, outcome })
const mb = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function started(options: Parameters<typeof createAgbLocal>[0] = {}): Promise<{ local: AgbLocal; server: Server; port: number }> {
  const local = createAgbLocal(options)
  const server = await serve(local)
  return { local, server, port: server.port }
}

/**
 * One request on its own connection (`connection: close`), any `host` header included (fetch
 * would replace it): status, raw answer, and the JSON body when there is one.
 */
async function exchange(port: number, method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; text: string; json: any }> {
  const conn = await rawConnect(port, requestHead(method, path, { host: `127.0.0.1:${port}`, ...headers, connection: 'close', 'content-length': Buffer.byteLength(body) }) + body)
  await Promise.race([conn.closed, sleep(30_000)])
  conn.socket.destroy()
  const text = conn.received()
  const head = text.slice(0, text.indexOf('\r\n\r\n'))
  let payload = text.slice(head.length + 4)
  if (/transfer-encoding: chunked/i.test(head)) {
    let plain = ''
    for (let at = 0; ; ) {
      const eol = payload.indexOf('\r\n', at)
      const size = parseInt(payload.slice(at, eol), 16)
      if (!(size > 0)) break
      plain += payload.slice(eol + 2, eol + 2 + size)
      at = eol + 2 + size + 2
    }
    payload = plain
  }
  let json: any
  try {
    json = JSON.parse(Buffer.from(payload, 'latin1').toString('utf8'))
  } catch {}
  return { status: conn.status(), text, json }
}

/** Waits until the server answers a request again (not 503, not dropped), for at most 10 s. */
async function servedAgain(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (![0, 503].includes((await exchange(port, 'GET', '/resource/none', {})).status)) return
    await sleep(100)
  }
}

async function createSession(port: number, local: AgbLocal): Promise<Record<string, string>> {
  const res = await exchange(port, 'POST', '/mcp/createSession?imageId=agb-code-space-1', { authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json' }, '{}')
  if (!res.json?.data?.sessionId) throw new Error(`createSession: ${res.text.slice(0, 300)}`)
  return res.json.data
}

describe('keyless half-sent bodies (memory)', () => {
  let target: Target
  beforeAll(async () => {
    target = await startTarget()
  })
  afterAll(async () => {
    await target?.close()
  })

  it('40 connections each declaring 19 MiB and pushing as much as the server takes do not grow its memory', async () => {
    const CONNECTIONS = 40
    const DECLARED = 19 * MiB
    const before = await target.memory()
    // Refused for a missing key, a missing session token and a missing signature: each kind of
    // credential is checked before a byte of the body is read.
    const targets = [
      (i: number) => ({ method: 'POST', path: '/mcp/createSession?imageId=agb-code-space-1', headers: {} as Record<string, string>, refused: [403], i }),
      (i: number) => ({ method: 'POST', path: '/link/no-such-session/callTool', headers: { 'x-access-token': 'guess' }, refused: [404], i }),
      (i: number) => ({ method: 'PUT', path: `/oss/agb-local/attack-${i}`, headers: {}, refused: [403], i }),
    ]
    let pushed = 0
    const conns = await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, i) => {
        const t = targets[i % targets.length]!(i)
        const conn = await rawConnect(target.port, requestHead(t.method, t.path, { host: `127.0.0.1:${target.port}`, 'content-type': 'application/json', 'content-length': DECLARED, ...t.headers }))
        const chunk = Buffer.alloc(64 * 1024, 0x20)
        let sent = 0
        const pump = () => {
          while (sent < DECLARED - MiB && !conn.socket.destroyed) {
            sent += chunk.length
            if (!conn.socket.write(chunk, (e) => void (!e && (pushed += chunk.length)))) return void conn.socket.once('drain', pump)
          }
        }
        pump()
        return { conn, t }
      }),
    )
    // Measured while the refused connections still linger (2 s after their answer): the
    // attackers push until the kernel buffers are full, whatever the server does with the bytes.
    await sleep(1_000)
    const during = await target.memory()
    const statuses = await Promise.all(conns.map(({ conn }) => conn.answered(15_000).catch(() => 0)))
    for (const { conn } of conns) conn.socket.destroy()
    const growth = during.rss - before.rss
    row(`${CONNECTIONS} keyless connections × ${mb(DECLARED)} declared body, ${mb(pushed)} pushed in total, held open`, 'refused before the body is read; no memory growth',
      `${statuses.filter((s, i) => conns[i]!.t.refused.includes(s)).length}/${CONNECTIONS} refused (403/404/403); RSS ${mb(before.rss)} → ${mb(during.rss)}, heap ${mb(before.heapUsed)} → ${mb(during.heapUsed)}, buffers ${mb(before.arrayBuffers)} → ${mb(during.arrayBuffers)}`)
    expect(statuses).toEqual(conns.map(({ t }) => t.refused[0]))
    expect(pushed).toBeGreaterThan(8 * MiB) // the attack did push data at the server
    expect(growth).toBeLessThan(32 * MiB) // before the fix: +740 MiB
    expect(during.heapUsed - before.heapUsed).toBeLessThan(16 * MiB)
    expect(during.arrayBuffers - before.arrayBuffers).toBeLessThan(16 * MiB)
  }, 60_000)
})

describe('the same attack from inside a session (sandboxes share the host network)', () => {
  let target: Target
  beforeAll(async () => {
    target = await startTarget()
  })
  afterAll(async () => {
    await target?.close()
  })

  it('sandboxed code opening 20 keyless connections with 19 MiB bodies is refused and does not grow the server\'s memory', async () => {
    const headers = { authorization: `Bearer ${target.apiKey}`, 'content-type': 'application/json' }
    const created = (await (await fetch(`${target.url}/mcp/createSession?imageId=agb-code-space-1`, { method: 'POST', headers, body: '{}' })).json()) as { data: { sessionId: string } }
    const sessionId = created.data.sessionId
    const code = [
      'import socket, time',
      `head = b"POST /mcp/createSession?imageId=agb-code-space-1 HTTP/1.1\\r\\nhost: 127.0.0.1:${target.port}\\r\\ncontent-length: ${19 * MiB}\\r\\n\\r\\n"`,
      'socks, pushed, chunk = [], 0, b" " * 65536',
      'for i in range(20):',
      `    s = socket.create_connection(("127.0.0.1", ${target.port})); s.sendall(head); s.setblocking(False); socks.append(s)`,
      'end = time.time() + 3',
      'while time.time() < end:',
      '    for s in socks:',
      '        try: pushed += s.send(chunk)',
      '        except OSError: time.sleep(0.001)',
      'answers = []',
      'for s in socks:',
      '    s.setblocking(True); s.settimeout(10)',
      '    try: answers.append(s.recv(12)[9:12].decode())',
      '    except Exception as e: answers.append(type(e).__name__)',
      'print(pushed, " ".join(answers))',
    ].join('\n')
    const runCode = (source: string) => fetch(`${target.url}/mcp?autoGenSession=false`, {
      method: 'POST', headers, body: JSON.stringify({ sessionId, name: 'run_code', args: JSON.stringify({ code: source, language: 'python', timeout_s: 60 }) }),
    })
    await (await runCode('import socket, time')).text() // the kernel is up before the baseline
    const before = await target.memory()
    let peak = before
    let running = true
    const sampler = (async () => {
      while (running) {
        const m = await target.memory()
        if (m.rss > peak.rss) peak = m
        await sleep(250)
      }
    })()
    const res = await runCode(code)
    running = false
    await sampler
    const text = ((await res.json()) as { data: { content: Array<{ text: string }> } }).data.content[0]!.text
    const out = String((JSON.parse(text) as { stdout?: string[] | string }).stdout ?? '').replace(/,/g, '').trim()
    const [pushed = '0', ...answers] = out.split(/\s+/)
    row('the keyless-body attack run by sandboxed code (20 connections × 19 MiB, 3 s of pushing)', 'refused; no memory growth',
      `${answers.filter((a) => a === '403').length}/20 answered 403, ${mb(Number(pushed))} pushed; RSS ${mb(before.rss)} → peak ${mb(peak.rss)}`)
    expect(answers).toEqual(Array(20).fill('403'))
    expect(Number(pushed)).toBeGreaterThan(4 * MiB)
    expect(peak.rss - before.rss).toBeLessThan(32 * MiB)
  }, 90_000)
})

describe('connection and WebSocket caps', () => {
  let local: AgbLocal
  let server: Server
  let port: number
  beforeAll(async () => {
    ;({ local, server, port } = await started({ maxConnections: 6, maxSockets: 3, maxSocketsPerSession: 2 }))
  })
  afterAll(async () => {
    await server?.close()
    await local?.close()
  })

  it('answers a connection beyond maxConnections with 503 and Retry-After, and serves again once one closes', async () => {
    const held = await Promise.all(Array.from({ length: 6 }, () => rawConnect(port)))
    const extra = await rawConnect(port, requestHead('GET', '/sdk/ListSession', { host: `127.0.0.1:${port}`, authorization: `Bearer ${local.apiKey}` }))
    const status = await extra.answered()
    const closedIn = await extra.closed
    expect(status).toBe(503)
    expect(extra.received()).toMatch(/retry-after: 1\r\n/i)
    expect(extra.received()).toContain('"code":"ServiceUnavailable"')
    held[0]!.socket.destroy()
    await sleep(100)
    const again = await rawConnect(port, requestHead('GET', '/sdk/ListSession', { host: `127.0.0.1:${port}`, authorization: `Bearer ${local.apiKey}` }))
    const after = await again.answered()
    for (const c of [...held, again]) c.socket.destroy()
    // The server sees those closes a moment later: the next test needs the slots.
    await servedAgain(port)
    row('7th connection while maxConnections (6) are open', '503 + Retry-After, closed; served once a slot frees', `${status}, closed after ${closedIn.toFixed(0)} ms; then ${after}`)
    expect(after).toBe(200)
  })

  it('drops connections beyond twice maxConnections without reading them', async () => {
    const held = await Promise.all(Array.from({ length: 12 }, () => rawConnect(port))) // 6 served + 6 to be answered 503
    const dropped = await rawConnect(port, requestHead('GET', '/sdk/ListSession', { host: `127.0.0.1:${port}`, authorization: `Bearer ${local.apiKey}` }))
    const closedIn = await Promise.race([dropped.closed, sleep(5_000).then(() => -1)])
    const answer = dropped.received()
    for (const c of [...held, dropped]) c.socket.destroy()
    await servedAgain(port)
    row('13th connection while 12 (twice maxConnections) are open', 'dropped at once, unanswered', `closed after ${closedIn.toFixed(0)} ms, ${answer.length} bytes answered`)
    expect(closedIn).toBeGreaterThanOrEqual(0)
    expect(closedIn).toBeLessThan(1_000)
    expect(answer).toBe('')
  })

  it('refuses WebSockets beyond maxSocketsPerSession (429) and beyond maxSockets (503)', async () => {
    const a = await createSession(port, local)
    const b = await createSession(port, local)
    const open: WsTestClient[] = []
    const refusal = (e: unknown) => Number(/(\d{3})/.exec(String((e as Error).message))?.[1] ?? -1)
    try {
      open.push(await openWs(a.wsUrl!, a.token!), await openWs(a.wsUrl!, a.token!))
      const perSession = await openWs(a.wsUrl!, a.token!).then(() => 101, refusal)
      open.push(await openWs(b.wsUrl!, b.token!))
      const total = await openWs(b.wsUrl!, b.token!).then(() => 101, refusal)
      expect(local.openSockets()).toBe(3)
      // The slot is free once the server has handled the close, a few turns after the client's.
      const closing = open.shift()!
      closing.ws.close()
      await closing.closed
      await waitFor(() => local.openSockets() === 2)
      const freed = await openWs(b.wsUrl!, b.token!).then((c) => (open.push(c), 101), refusal)
      row('3rd WebSocket of one session (maxSocketsPerSession 2)', '429 before the handshake', String(perSession))
      row('4th WebSocket in total (maxSockets 3)', '503 before the handshake; accepted once one closes', `${total}; then ${freed}`)
      expect(perSession).toBe(429)
      expect(total).toBe(503)
      expect(freed).toBe(101)
    } finally {
      for (const c of open) c.ws.terminate()
    }
  })
})

describe('slow senders', () => {
  let local: AgbLocal
  let server: Server
  let port: number
  beforeAll(async () => {
    ;({ local, server, port } = await started({ requestTimeout: 0.5 }))
  })
  afterAll(async () => {
    await server?.close()
    await local?.close()
  })

  it('cuts off a client that never finishes its headers (slowloris) after requestTimeout', async () => {
    const conn = await rawConnect(port, `POST /mcp/createSession?imageId=agb-code-space-1 HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n`)
    const drip = setInterval(() => conn.socket.write('x-a: b\r\n'), 100) // progress, but never the end of the head
    const closedIn = await conn.closed
    clearInterval(drip)
    row('headers dripped forever (requestTimeout 0.5 s)', 'closed after ~0.5 s', `${conn.status() || 'no answer'}, closed after ${closedIn.toFixed(0)} ms`)
    expect(closedIn).toBeLessThan(5_000)
    expect(conn.status()).toBe(408)
  })

  it('cuts off a connection that sends nothing at all', async () => {
    const conn = await rawConnect(port)
    const closedIn = await conn.closed
    row('connection opened, nothing sent', 'closed after ~0.5 s', `closed after ${closedIn.toFixed(0)} ms`)
    expect(closedIn).toBeLessThan(5_000)
  })

  it('answers a body that stalls longer than requestTimeout with 408 and closes, creating nothing', async () => {
    const conn = await rawConnect(port, requestHead('POST', '/mcp/createSession?imageId=agb-code-space-1', { host: `127.0.0.1:${port}`, authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json', 'content-length': 100 }) + '{"labels":')
    const status = await conn.answered()
    const closedIn = await conn.closed
    row('authenticated body stalls after 10 of 100 bytes', '408 RequestTimeout, closed, no session', `${status} ${/"code":"(\w+)"/.exec(conn.received())?.[1]}, closed after ${closedIn.toFixed(0)} ms, ${local.liveSessions()} sessions`)
    expect(status).toBe(408)
    expect(conn.received()).toContain('"code":"RequestTimeout"')
    expect(closedIn).toBeLessThan(5_000)
    expect(local.liveSessions()).toBe(0)
  })

  it('still serves a slow upload that keeps making progress (the limit is a pause, not a total)', async () => {
    const body = JSON.stringify({ labels: '{}', pad: 'p'.repeat(20) })
    const conn = await rawConnect(port, requestHead('POST', '/mcp/createSession?imageId=no-such-image', { host: `127.0.0.1:${port}`, authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json', 'content-length': body.length }))
    for (const ch of body) {
      conn.socket.write(ch)
      await sleep(50) // 40 bytes over ~2 s: four times the timeout in total, never 0.5 s idle
    }
    const status = await conn.answered()
    conn.socket.destroy()
    row('body sent 1 byte / 50 ms for 2 s (requestTimeout 0.5 s)', 'served', String(status))
    expect(status).toBe(200)
  })

  it('does not take body bytes that waited in the socket while the server was busy for a stall', async () => {
    const body = JSON.stringify({ labels: '{}' })
    const conn = await rawConnect(port, requestHead('POST', '/mcp/createSession?imageId=no-such-image', { host: `127.0.0.1:${port}`, authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json', 'content-length': body.length }))
    conn.socket.write(body.slice(0, 5))
    await sleep(200) // the server reads those and waits for more
    conn.socket.write(body.slice(5, 10))
    const until = Date.now() + 1_000
    while (Date.now() < until); // this process (and the server in it) busy for twice the timeout
    conn.socket.write(body.slice(10))
    const status = await conn.answered()
    conn.socket.destroy()
    row('body bytes arrive while the server\'s event loop is blocked 1 s (requestTimeout 0.5 s)', 'served, not a 408', String(status))
    expect(status).toBe(200)
  })
})

describe('oversized bodies and objects', () => {
  let local: AgbLocal
  let server: Server
  let port: number
  const MAX_OBJECT = 1 * MiB
  const MAX_BODY = 256 * 1024
  const dataDir = mkdtempSync(join(tmpdir(), 'agb-exhaustion-'))
  beforeAll(async () => {
    ;({ local, server, port } = await started({ maxObjectBytes: MAX_OBJECT, maxBodyBytes: MAX_BODY, dataDir }))
  })
  afterAll(async () => {
    await server?.close()
    await local?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })
  const stored = (key: string) => fetch(local.oss.presign('HEAD', local.oss.bucket, key, 60, server.url), { method: 'HEAD' }).then((r) => r.status)
  /** Files of the store: objects (bytes + sidecar) and uploads in progress. */
  const storeFiles = () => [...readdirSync(join(dataDir, 'storage', 'buckets', local.oss.bucket)), ...readdirSync(join(dataDir, 'storage', 'tmp'))]

  it('refuses a presigned PUT over maxObjectBytes with 413 EntityTooLarge, declared or streamed, storing nothing', async () => {
    const declared = await fetch(local.oss.presign('PUT', local.oss.bucket, 'big-declared', 60, server.url), { method: 'PUT', body: new Uint8Array(MAX_OBJECT + 1) })
    const declaredText = await declared.text()
    let chunks = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (chunks++ >= 40) return c.close()
        c.enqueue(new Uint8Array(64 * 1024))
      },
    })
    const streamed = await fetch(local.oss.presign('PUT', local.oss.bucket, 'big-streamed', 60, server.url), { method: 'PUT', body: stream, duplex: 'half' } as RequestInit)
    const streamedText = await streamed.text()
    const atCap = await fetch(local.oss.presign('PUT', local.oss.bucket, 'at-cap', 60, server.url), { method: 'PUT', body: new Uint8Array(MAX_OBJECT) })
    // A declared length over the cap is refused before a byte of the body is sent.
    const signed = new URL(local.oss.presign('PUT', local.oss.bucket, 'big-unsent', 60, server.url))
    const unsent = await rawConnect(port, requestHead('PUT', signed.pathname + signed.search, { host: signed.host, 'content-length': 600 * MiB }))
    const unsentStatus = await unsent.answered(5_000).catch(() => 0)
    unsent.socket.destroy()
    const kept = [await stored('big-declared'), await stored('big-streamed'), await stored('big-unsent'), await stored('at-cap')]
    row(`presigned PUT of ${MAX_OBJECT + 1} bytes (maxObjectBytes 1 MiB), declared / streamed (2.5 MiB, no length); 600 MiB declared`, '413 EntityTooLarge before reading, nothing stored; exactly 1 MiB stored',
      `${declared.status} / ${streamed.status}; 600 MiB declared, none sent: ${unsentStatus || 'no answer'}; HEAD after: ${kept.join(', ')}`)
    expect(declared.status).toBe(413)
    expect(unsentStatus).toBe(413)
    expect(declaredText).toContain('<Code>EntityTooLarge</Code>')
    expect(declaredText).toContain(String(MAX_OBJECT))
    expect(streamed.status).toBe(413)
    expect(streamedText).toContain('<Code>EntityTooLarge</Code>')
    expect(atCap.status).toBe(200)
    expect(kept).toEqual([404, 404, 404, 200])
    expect(storeFiles()).toHaveLength(2) // at-cap's bytes and sidecar; no partial upload left behind
  })

  it('refuses an API body over maxBodyBytes with 413 (key first: without it, 403) and a link body over it after the token check', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(MAX_BODY) })
    const headers = { authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json' }
    const keyed = await fetch(`${server.url}/mcp/createSession?imageId=agb-code-space-1`, { method: 'POST', headers, body: big })
    const keyless = await fetch(`${server.url}/mcp/createSession?imageId=agb-code-space-1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })
    const s = await createSession(port, local)
    const link = await fetch(`${s.linkUrl}/callTool`, { method: 'POST', headers: { 'x-access-token': s.token!, 'content-type': 'application/json' }, body: big })
    const linkNoToken = await fetch(`${s.linkUrl}/callTool`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })
    row(`API / link body of ${big.length} bytes (maxBodyBytes 256 KiB)`, 'key/token checked first (403/401), then 413; nothing created',
      `with key ${keyed.status}, without ${keyless.status}; link with token ${link.status}, without ${linkNoToken.status}; ${local.liveSessions()} session (the test's own)`)
    expect(keyed.status).toBe(413)
    expect(((await keyed.json()) as { code: string }).code).toBe('RequestEntityTooLarge')
    expect(keyless.status).toBe(403)
    expect(link.status).toBe(413)
    expect(linkNoToken.status).toBe(401)
    expect(local.liveSessions()).toBe(1)
  })

  it('answers an oversized body sent over a raw socket before reading it, then closes the connection', async () => {
    const conn = await rawConnect(port, requestHead('POST', '/mcp/createSession?imageId=agb-code-space-1', { host: `127.0.0.1:${port}`, authorization: `Bearer ${local.apiKey}`, 'content-length': 50 * MiB }))
    const status = await conn.answered()
    expect(status).toBe(413)
    expect(conn.received()).toMatch(/connection: close/i)
    expect(await conn.closed).toBeLessThan(10_000)
  })
})

describe('forged Host and DNS rebinding', () => {
  let local: AgbLocal
  let server: Server
  let port: number
  beforeAll(async () => {
    ;({ local, server, port } = await started({ allowedHosts: ['agb.test', '.agb.example'] }))
  })
  afterAll(async () => {
    await server?.close()
    await local?.close()
  })
  const ask = (host: string) =>
    exchange(port, 'POST', '/mcp/createSession?imageId=agb-code-space-1', { host, authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json' }, '{}')

  it('refuses a forged Host with 421 before anything runs: no session, no link URL naming it', async () => {
    const before = local.liveSessions()
    const outcomes: string[] = []
    for (const host of ['attacker.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `localhost.evil.example:${port}`, `evil@127.0.0.1:${port}`, `0.0.0.0:${port}`]) {
      const { status, text } = await ask(host)
      outcomes.push(`${host} → ${status}`)
      expect(status, host).toBe(421)
      expect(text, host).toContain('"code":"InvalidHost"')
      expect(text, host).not.toContain('linkUrl')
    }
    row('forged Host (attacker.example, evil.example:port, 127.0.0.1.evil.example, localhost.evil.example, evil@127.0.0.1, 0.0.0.0)', '421 InvalidHost, nothing runs', outcomes.map((o) => o.split(' → ')[1]).join(', '))
    expect(local.liveSessions()).toBe(before)
  })

  it('refuses a rebinding page (Host evil.example:port, Origin http://evil.example:port) on every route and on WebSocket upgrades', async () => {
    const s = await createSession(port, local)
    const page = { host: `evil.example:${port}`, origin: `http://evil.example:${port}` }
    const api = await exchange(port, 'GET', '/sdk/ListSession', { ...page, authorization: `Bearer ${local.apiKey}` })
    const resource = await exchange(port, 'GET', `/resource/${s.sessionId}`, page)
    const preflight = await exchange(port, 'OPTIONS', '/mcp/createSession', { ...page, 'access-control-request-method': 'POST' })
    const upgrade = await rawConnect(port, requestHead('GET', `/ws/${s.sessionId}`, { ...page, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': 13, 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'x-access-token': s.token! }))
    const ws = await upgrade.answered()
    upgrade.socket.destroy()
    row('DNS rebinding: Host/Origin evil.example:port on API, resource page, preflight, WebSocket', '421 everywhere', [api.status, resource.status, preflight.status, ws].join(', '))
    expect([api.status, resource.status, preflight.status, ws]).toEqual([421, 421, 421, 421])
    expect(local.openSockets()).toBe(0)
  })

  it('serves 127.0.0.1, localhost, [::1] and configured names, and builds link URLs from the accepted host only', async () => {
    const seen: string[] = []
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `agb.test:${port}`, `api.agb.example:${port}`, `AGB.TEST.:${port}`]) {
      const { status, text } = await ask(host)
      const linkUrl = /"linkUrl":"([^"]+)"/.exec(text)?.[1] ?? ''
      seen.push(`${host} → ${status} ${linkUrl.replace(/\/link\/.*/, '')}`)
      expect(status, host).toBe(200)
      expect(new URL(linkUrl).host, host).toBe(host.toLowerCase().replace('.:', ':'))
    }
    row('Host 127.0.0.1 / localhost / [::1] / agb.test / api.agb.example / AGB.TEST.', '200, linkUrl on that host', seen.map((s) => s.split(' → ')[1]!.split(' ')[0]).join(', '))
  })

  it('presigned URLs handed out are built from the accepted host', async () => {
    const headers = { authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json', host: `agb.test:${port}` }
    const ctx = await exchange(port, 'GET', '/sdk/GetContext?name=hostcheck&allowCreate=true', headers)
    const res = await exchange(port, 'POST', `/sdk/GetContextFileUploadUrl?contextId=${ctx.json.data.id}&filePath=/x.txt`, headers, '{}')
    const url = res.json.data.url as string
    row('presigned upload URL asked for via Host agb.test', 'URL on agb.test', new URL(url).host)
    expect(new URL(url).host).toBe(`agb.test:${port}`)
  })
})

describe('the command line', () => {
  it('passes --allowed-host, --max-connections and --request-timeout to the server', async () => {
    const child = spawn('node_modules/.bin/tsx', ['server/cli.ts', '--port', '0', '--api-key', 'akm-exhaustion-cli', '--allowed-host', 'agb.test',
      '--max-connections', '2', '--request-timeout', '0.5'], { stdio: ['ignore', 'pipe', 'inherit'] })
    try {
      const banner = (await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next()).value as string
      const port = Number(/:(\d+)$/.exec(banner)?.[1])
      const auth = { authorization: 'Bearer akm-exhaustion-cli' }
      const allowed = (await exchange(port, 'GET', '/sdk/ListSession', { ...auth, host: `agb.test:${port}` })).status
      const forged = (await exchange(port, 'GET', '/sdk/ListSession', { ...auth, host: `evil.example:${port}` })).status
      const held = await Promise.all([rawConnect(port), rawConnect(port)])
      const third = (await exchange(port, 'GET', '/sdk/ListSession', auth)).status
      const closedIn = await held[0]!.closed // silent: cut off after the 0.5 s request timeout
      for (const c of held) c.socket.destroy()
      row('CLI --allowed-host agb.test --max-connections 2 --request-timeout 0.5', 'agb.test 200, evil.example 421, 3rd connection 503, silent one closed', `${allowed}, ${forged}, ${third}, closed after ${closedIn.toFixed(0)} ms`)
      expect([allowed, forged, third]).toEqual([200, 421, 503])
      expect(closedIn).toBeLessThan(5_000)
    } finally {
      // SIGTERM: tsx passes it on to the server process (SIGKILL would orphan that one).
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
  }, 30_000)
})

describe('keep-alive reuse while the server is busy', () => {
  let target: Target
  let shortKeepAlive: Target
  beforeAll(async () => {
    ;[target, shortKeepAlive] = await Promise.all([startTarget(), startTarget({}, { keepAliveTimeoutMs: 4_000 })])
  })
  afterAll(async () => {
    await Promise.all([target?.close(), shortKeepAlive?.close()])
  })

  it('serves a kept-alive connection reused just before its idle timeout while the event loop was blocked, instead of resetting it', async () => {
    // Server closing idle connections after 4 s (+1 s): its close falls inside the blocked time.
    const statuses: Array<number | string> = []
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${shortKeepAlive.url}${path}`, { ...init, headers: { authorization: `Bearer ${shortKeepAlive.apiKey}` } }).then(
        async (r) => (await r.arrayBuffer(), r.status),
        (e: Error) => String((e.cause as { code?: string })?.code ?? e.message),
      )
    statuses.push(await call('/sdk/ListSession'))
    await sleep(300)
    const busy = shortKeepAlive.block(6_500) // busy past the 4 s (+1 s) keep-alive timeout
    await sleep(2_300) // fetch reuses the connection (it keeps one 3 s) while the server is busy
    // POST: fetch would silently retry an idempotent GET on a reset connection.
    statuses.push(await call('/mcp/createSession?imageId=no-such-image', { method: 'POST', body: '{}' }))
    await busy
    row('connection reused at 2.6 s idle while the server\'s event loop is blocked 6.5 s', 'answered (old server: ECONNRESET)', statuses.join(', '))
    expect(statuses).toEqual([200, 200])
  }, 40_000)

  it('advertises a 5 s keep-alive but serves a client that reuses the connection later than that (a late event loop)', async () => {
    const get = requestHead('GET', '/sdk/ListSession', { host: `127.0.0.1:${target.port}`, authorization: `Bearer ${target.apiKey}` })
    const conn = await rawConnect(target.port, get)
    await conn.answered()
    const advertised = /keep-alive: (timeout=\d+)/i.exec(conn.received())?.[1]
    await sleep(6_500) // past the advertised 5 s, and past Node's default 6 s close
    conn.socket.write(get)
    const deadline = Date.now() + 10_000
    while ((conn.received().match(/HTTP\/1\.1 /g) ?? []).length < 2 && !conn.socket.destroyed && Date.now() < deadline) await sleep(20)
    const second = Number([...conn.received().matchAll(/HTTP\/1\.1 (\d{3})/g)][1]?.[1] ?? 0) // the second answer's status
    conn.socket.destroy()
    row('kept-alive connection reused 6.5 s after its answer (advertised keep-alive 5 s)', 'served (old server: closed at 6 s)', `advertised ${advertised}; ${second || 'connection closed'}`)
    expect(advertised).toBe('timeout=5')
    expect(second).toBe(200)
  }, 30_000)
})
