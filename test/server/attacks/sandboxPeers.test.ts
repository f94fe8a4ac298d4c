import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal, serve } from '../../../server/index.ts'
import type { AgbLocal, Server } from '../../../server/index.ts'
import { localClient } from '../localClient.ts'

// Sandboxed code shares the host network, and the CLI's default key (akm-local-dev) is public:
// these attacks run code in a session that calls AGB Local's own port on 127.0.0.1 with the
// right key, and floods it with connections. When AGB Local runs as root every sandbox is a
// host user of its own, and serve() refuses connections made by those users. Bounded: 127.0.0.1
// only, at most 300 connections for about 12 s.

const asRoot = process.getuid?.() === 0
const DEV_KEY = 'akm-local-dev'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** One request from the test process (host root, not a sandbox) on a fresh connection. */
function hostRequest(port: number, path: string): Promise<{ status: number; ms: number }> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false, headers: { authorization: `Bearer ${DEV_KEY}` }, timeout: 20_000 }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }))
    })
    req.on('timeout', () => req.destroy(new Error('no answer in 20 s')))
    req.on('error', reject)
    req.end()
  })
}

describe.skipIf(!asRoot)('sandboxed code calling AGB Local\'s own port (root: one host uid per sandbox)', () => {
  let local: AgbLocal
  let server: Server
  let a: string
  let b: { id: string; token: string }
  let api: ReturnType<typeof localClient>

  beforeAll(async () => {
    // maxConnections well below the flood, so a flood counted against it would lock the user out.
    local = createAgbLocal({ isolation: 'bwrap', apiKey: DEV_KEY, maxConnections: 100 })
    server = await serve(local)
    api = localClient(local)
    a = await api.createSession()
    const created = await api.post('/mcp/createSession?imageId=agb-code-space-1', {})
    b = { id: created.json.data.sessionId, token: created.json.data.token }
    expect(typeof b.token).toBe('string')
    await api.callTool(b.id, 'write_file', { path: '/home/user/secret.txt', content: 'B-SECRET-123' })
  }, 60_000)
  afterAll(async () => {
    await server?.close()
    await local?.close()
  })

  it('refuses the API, the session link and the WebSocket to sandboxed code holding the right key and token', async () => {
    const sessionsBefore = local.liveSessions()
    const script = `
import json, socket, urllib.request, urllib.error
E = 'http://127.0.0.1:${server.port}'
H = {'authorization': 'Bearer ${DEV_KEY}', 'content-type': 'application/json'}
def call(path, body=None, headers=H):
    req = urllib.request.Request(E + path, data=None if body is None else json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return [r.status, r.read().decode()]
    except urllib.error.HTTPError as e:
        return [e.code, e.read().decode()]
out = {}
out['list'] = call('/sdk/ListSession')
out['read'] = call('/mcp?autoGenSession=false', {'sessionId': '${b.id}', 'name': 'read_file', 'args': json.dumps({'path': '/home/user/secret.txt'})})
out['shell'] = call('/mcp?autoGenSession=false', {'sessionId': '${b.id}', 'name': 'shell', 'args': json.dumps({'command': 'echo pwned > /home/user/pwned'})})
out['create'] = call('/mcp/createSession?imageId=agb-code-space-1', {})
out['dotdot'] = call('/local/test-page/../../sdk/ListSession')
out['link'] = call('/link/${b.id}/callTool', {'tool': 'shell', 'args': {'command': 'echo pwned > /home/user/pwned'}},
                   {'x-access-token': '${b.token}', 'content-type': 'application/json'})
s = socket.create_connection(('127.0.0.1', ${server.port}), timeout=20)
s.sendall(b'GET /ws/${b.id}?token=${b.token} HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n'
          b'Sec-WebSocket-Version: 13\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nauthorization: Bearer ${DEV_KEY}\\r\\n\\r\\n')
got = b''
while True:
    chunk = s.recv(4096)
    if not chunk: break
    got += chunk
out['ws'] = [int(got.split(b' ')[1]), got.decode('latin1')]
page = call('/local/test-page')
print(json.dumps([out, page]))
`
    await api.callTool(a, 'write_file', { path: '/home/user/attack.py', content: script })
    const run = await api.shell(a, 'python3 /home/user/attack.py', { timeout_ms: 60_000 })
    expect(run.stderr).toBe('')
    const [out, page] = JSON.parse(run.stdout) as [Record<string, [number, string]>, [number, string]]
    expect(Object.keys(out)).toEqual(['list', 'read', 'shell', 'create', 'dotdot', 'link', 'ws'])
    for (const [name, [status, text]] of Object.entries(out)) {
      expect({ name, status }).toEqual({ name, status: 403 })
      const body = JSON.parse(text.slice(text.indexOf('{')))
      expect(body.code).toBe('AccessDenied')
      expect(body.message).toContain('does not take API calls from its own sandboxes')
      expect(text).not.toContain('B-SECRET-123')
      expect(text).not.toContain(b.id.slice(-8) + '"') // no session listing
    }
    // The one page a sandbox may fetch: the static test page its browser opens offline.
    expect(page[0]).toBe(200)
    expect(page[1]).toContain('<title>AGB Local test page</title>')
    // Nothing happened: no new session, nothing written into B.
    expect(local.liveSessions()).toBe(sessionsBefore)
    const pwned = await api.shell(b.id, 'ls /home/user')
    expect(pwned.stdout.split('\n').filter(Boolean)).toEqual(['secret.txt'])
    // The same call from outside the sandbox (this test process) is served.
    expect((await hostRequest(server.port, '/sdk/ListSession')).status).toBe(200)
  }, 90_000)

  it('keeps serving the user\'s own client while a session floods the port with 300 slow connections', async () => {
    const script = `
import socket, time, json
PORT = ${server.port}
stats = {'connects': 0, 'refusedConnect': 0, 'answered403': 0}
def conn():
    try:
        s = socket.create_connection(('127.0.0.1', PORT), timeout=2)
        s.setblocking(False)
        s.send(b'GET /sdk/ListSession HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n')
        stats['connects'] += 1
        return s
    except Exception:
        stats['refusedConnect'] += 1
        return None
socks = [conn() for i in range(300)]
t = time.time()
while time.time() - t < 12:
    time.sleep(0.5)
    for i, s in enumerate(socks):
        try:
            if s is None: raise OSError()
            s.send(b'X-a: b\\r\\n')
            try:
                if b' 403 ' in s.recv(4096): stats['answered403'] += 1
            except BlockingIOError:
                pass
        except Exception:
            if s is not None: s.close()
            socks[i] = conn()
open('/home/user/flood.json', 'w').write(json.dumps(stats))
`
    await api.callTool(a, 'write_file', { path: '/home/user/flood.py', content: script })
    await api.shell(a, 'setsid python3 /home/user/flood.py > /home/user/flood.log 2>&1 &')
    await sleep(1_500)
    const statuses: Array<number | string> = []
    let slowest = 0
    const until = Date.now() + 10_000
    while (Date.now() < until) {
      // A refused or dropped connection is recorded as what happened, not thrown.
      const r = await hostRequest(server.port, '/sdk/ListSession').catch((e: Error) => ({ status: e.message, ms: 0 }))
      statuses.push(r.status)
      slowest = Math.max(slowest, r.ms)
      await sleep(250)
    }
    // Let the flood finish and report what it did.
    let stats: { connects: number; refusedConnect: number; answered403: number } | undefined
    for (let i = 0; i < 40 && !stats; i++) {
      await sleep(500)
      const read = await api.callTool(a, 'read_file', { path: '/home/user/flood.json' })
      if (!read.isError) stats = JSON.parse(read.text)
    }
    console.log(`flood: ${JSON.stringify(stats)}; user requests: ${statuses.length}, slowest ${Math.round(slowest)} ms`)
    expect(stats).toBeTruthy()
    expect(stats!.connects).toBeGreaterThanOrEqual(300) // the flood really happened
    expect(statuses.length).toBeGreaterThanOrEqual(5)
    expect(statuses.filter((s) => s !== 200)).toEqual([])
  }, 90_000)

  it('serves sandboxed code when allowSandboxCallers is set', async () => {
    const open = await serve({ ...local, servePolicy: { ...local.servePolicy, allowSandboxCallers: true } })
    try {
      const run = await api.shell(a, `python3 -c "import urllib.request as u; print(u.urlopen(u.Request('http://127.0.0.1:${open.port}/sdk/ListSession', headers={'authorization': 'Bearer ${DEV_KEY}'})).status)"`)
      expect(run.stdout.trim()).toBe('200')
    } finally {
      await open.close()
    }
  }, 60_000)
})

describe('the warning when sandboxes cannot be told apart', () => {
  it('says at start that sandboxed code can call the API when sandboxes run as AGB Local\'s own user', async () => {
    const lines: string[] = []
    const plain = createAgbLocal({ isolation: 'none', log: (line) => lines.push(line) })
    await plain.close()
    expect(lines.filter((l) => l.startsWith('Warning: sandboxed code runs as this server\'s own user'))).toHaveLength(1)
    const quiet: string[] = []
    const offline = createAgbLocal({ isolation: 'none', network: false, log: (line) => quiet.push(line) })
    await offline.close()
    expect(quiet.filter((l) => l.includes('sandboxed code runs as'))).toEqual([])
  })

  it.skipIf(!asRoot)('stays quiet as root with bubblewrap, where sandboxes are refused', async () => {
    const lines: string[] = []
    const rooted = createAgbLocal({ isolation: 'bwrap', log: (line) => lines.push(line) })
    await rooted.close()
    expect(lines.filter((l) => l.includes('sandboxed code runs as'))).toEqual([])
  })
})
