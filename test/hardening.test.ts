import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal, serve } from '../server/index.ts'
import type { AgbLocal, Server } from '../server/index.ts'
import { presignUrl } from '../server/storage/sigV4.ts'
import * as sdk from '../src/index.ts'
import { createClient, isAgbError, type AgbError, type Client, type FetchLike, type Session } from '../src/index.ts'
import { IMAGE } from './helpers/local.ts'

// AGB Local hardening, through the SDK over real loopback HTTP (and raw HTTP where the SDK
// cannot go). test/server/* already covers each server-side mechanism with raw requests (path
// resolution, 413, SigV4, a wrong linkUrl token, maxSessions one at a time); here every case
// arrives the way an SDK user would trigger it, maps to the right AgbError code, leaks nothing,
// and the service keeps serving afterwards.

const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e)
const expectCode = (error: unknown, code: sdk.AgbErrorCode | sdk.AgbErrorCode[]) => {
  const codes = Array.isArray(code) ? code : [code]
  expect(codes.some((c) => isAgbError(error, c)), `expected ${codes.join(' or ')}, got ${String((error as Error)?.message ?? error)}`).toBe(true)
  return error as AgbError
}

async function start(options: Parameters<typeof createAgbLocal>[0], fetch?: (base: FetchLike) => FetchLike) {
  const local = createAgbLocal(options)
  const server = await serve(local)
  const client = createClient({ apiKey: local.apiKey, endpoint: server.url, retry: { attempts: 2, baseDelay: 10 }, ...(fetch ? { fetch: fetch((i, init) => globalThis.fetch(i, init)) } : {}) })
  return { local, server, client }
}

describe('path traversal and symlink escapes through the file operations', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'agb-hardening-'))
  const hostSecret = join(dataDir, 'host-secret.txt')
  const marker = `escape-${randomBytes(6).toString('hex')}`
  let local: AgbLocal
  let server: Server
  let client: Client
  let s: Session
  beforeAll(async () => {
    writeFileSync(hostSecret, 'HOST SECRET')
    ;({ local, server, client } = await start({ dataDir }))
    s = await sdk.createSession(client, { imageId: IMAGE })
    await sdk.exec(client, s, `ln -s ${hostSecret} ~/abs; ln -s ../../../../../../../..${hostSecret} ~/rel; ln -s ${dataDir} ~/data; ln -s / ~/top`)
  })
  afterAll(async () => {
    await server?.close()
    await local?.close()
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(join('/tmp', `${marker}.txt`), { force: true })
  })

  const noSecret = (error: unknown) => {
    expect(String((error as Error)?.message)).not.toContain('HOST SECRET')
    return error
  }

  it('../ in a path stays inside the sandbox: readFile gets its own /etc/passwd, never the host one', async () => {
    const own = (await sdk.exec(client, s, 'cat /etc/passwd')).stdout
    for (const path of ['../../etc/passwd', '/home/user/../../../../../etc/passwd', '/../../../etc/./passwd']) {
      const text = await sdk.readFile(client, s, path)
      expect(text).toBe(own)
      expect(text).not.toBe(readFileSync('/etc/passwd', 'utf8'))
    }
  })

  it('writeFile and uploadFile through ../ land inside the sandbox, not on the host', async () => {
    await sdk.writeFile(client, s, `../../../../../../tmp/${marker}.txt`, 'written')
    await sdk.uploadFile(client, s, `../../../../../../../tmp/${marker}-up.txt`, 'uploaded', { pollInterval: 20 })
    await sdk.uploadFile(client, s, join(dataDir, `${marker}-planted.txt`), 'planted', { pollInterval: 20 })
    expect(existsSync(join('/tmp', `${marker}.txt`))).toBe(false)
    expect(existsSync(join('/tmp', `${marker}-up.txt`))).toBe(false)
    expect(existsSync(join(dataDir, `${marker}-planted.txt`))).toBe(false)
    expect((await sdk.exec(client, s, `cat /tmp/${marker}.txt`)).stdout).toBe('written')
    expect(await sdk.readFile(client, s, join(dataDir, `${marker}-planted.txt`))).toBe('planted')
  })

  it('symlinks out of the sandbox do not resolve: reads, stat, lists and downloads fail without the secret', async () => {
    for (const path of ['/home/user/abs', '/home/user/rel', '/home/user/data/host-secret.txt']) {
      // A link pointing outside resolves to nothing inside the sandbox: not found, or refused.
      expectCode(noSecret(await rejection(sdk.readFile(client, s, path))), ['not_found', 'tool_error'])
      expectCode(noSecret(await rejection(sdk.readFile(client, s, path, { format: 'bytes' }))), ['not_found', 'tool_error'])
      expectCode(noSecret(await rejection(sdk.stat(client, s, path))), ['not_found', 'tool_error'])
      expectCode(noSecret(await rejection(sdk.downloadFile(client, s, path, { pollInterval: 20 }))), 'tool_error')
    }
    expect(JSON.stringify(await sdk.readFiles(client, s, ['/home/user/abs', '/home/user/rel']))).not.toContain('HOST SECRET')
    expect(await sdk.searchFiles(client, s, '/home/user', '*secret*')).toEqual([])
    // A link to / is the sandbox's own root.
    expect((await sdk.listDir(client, s, '/home/user/top')).map((e) => e.name)).toContain('home')
    // A link to the host's data directory reaches at most the sandbox's own directory of that name.
    // (An earlier test planted a file at that path inside the sandbox: the listing is exactly
    // the sandbox's own directory, never the host's.)
    const own = (await sdk.exec(client, s, `ls -A ${dataDir}`)).stdout.split('\n').filter(Boolean).sort()
    expect(own).not.toContain('host-secret.txt')
    expect((await sdk.listDir(client, s, '/home/user/data')).map((e) => e.name).sort()).toEqual(own)
  })

  it('writes, edits, moves and removes through such links never touch the host file', async () => {
    await sdk.writeFile(client, s, '/home/user/data/planted.txt', 'x')
    expect(existsSync(join(dataDir, 'planted.txt'))).toBe(false)
    const editError = noSecret(await rejection(sdk.editFile(client, s, '/home/user/abs', [{ oldText: 'HOST', newText: 'PWNED' }])))
    expectCode(editError, 'tool_error')
    expect(String((editError as Error).message)).toMatch(/no such file/i)
    await sdk.move(client, s, '/home/user/rel', '/home/user/rel-moved')
    await sdk.remove(client, s, '/home/user/abs')
    await sdk.remove(client, s, '/home/user/rel-moved')
    expect(readFileSync(hostSecret, 'utf8')).toBe('HOST SECRET')
  })

  it('session ids that look like paths are unknown sessions: session_not_found, nothing touched', async () => {
    for (const id of ['../../etc', '..%2F..%2Fetc', `../sessions/${s.id}`, '/', '.']) {
      expectCode(await rejection(sdk.getSessionStatus(client, id)), 'session_not_found')
      expectCode(await rejection(sdk.readFile(client, id, '/etc/passwd')), 'session_not_found')
      expectCode(await rejection(sdk.runCode(client, id, '1')), 'session_not_found')
    }
    expect((await sdk.getSessionStatus(client, s)).toUpperCase()).toBe('RUNNING')
  })
})

describe('oversized request bodies', () => {
  const CAP = 256 * 1024
  let local: AgbLocal
  let server: Server
  let client: Client
  let s: Session
  beforeAll(async () => {
    ;({ local, server, client } = await start({ maxBodyBytes: CAP }))
    s = await sdk.createSession(client, { imageId: IMAGE })
  })
  afterAll(async () => {
    await server?.close()
    await local?.close()
  })
  const refused = () => local.requests.filter((r) => r.body.startsWith('[body over')).length

  it('writeFile chunks large content under the cap (1 MB of multi-byte text round-trips)', async () => {
    const text = 'é✓'.repeat(200_000)
    await sdk.writeFile(client, s, '/home/user/big.txt', text)
    expect(await sdk.readFile(client, s, '/home/user/big.txt')).toBe(text)
  })

  it('answers every oversized body on a kept-alive connection with the 413 envelope, not a reset', async () => {
    // Raw fetch, one connection pool: the second oversized body used to meet ECONNRESET after ~6 s.
    const body = JSON.stringify({ pad: 'a'.repeat(CAP + 1024) })
    for (let n = 1; n <= 3; n++) {
      const started = Date.now()
      const res = await fetch(`${server.url}/mcp/getSessionInfo`, { method: 'POST', headers: { authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json' }, body }).catch((e: unknown) => e as Error)
      expect(res instanceof Response ? res.status : `#${n}: ${(res as Error).message} ${String(((res as Error).cause as Error | undefined)?.message)}`).toBe(413)
      expect(await (res as Response).json()).toMatchObject({ success: false, code: 'RequestEntityTooLarge', httpStatusCode: 413 })
      expect(Date.now() - started).toBeLessThan(3_000) // not the ~6 s of a reset, with room for a busy machine
    }
  })

  it('a body over the cap is api_error 413 RequestEntityTooLarge, not retried, for run_code, shell and createSession', async () => {
    const cases: [string, () => Promise<unknown>][] = [
      ['runCode', () => sdk.runCode(client, s, `x = "${'a'.repeat(CAP)}"`)],
      ['exec', () => sdk.exec(client, s, `echo ${'b'.repeat(CAP)}`)],
      ['createSession', () => sdk.createSession(client, { imageId: IMAGE, labels: { big: 'c'.repeat(CAP) } })],
      ['callTool', () => sdk.callTool(client, s, 'write_file', { path: '/tmp/x', content: 'd'.repeat(CAP) })],
    ]
    for (const [name, run] of cases) {
      const before = refused()
      const started = Date.now()
      const error = expectCode(await rejection(run()), 'api_error')
      expect(Date.now() - started, `${name} answered at once`).toBeLessThan(2_000)
      expect(error, name).toMatchObject({ status: 413, apiCode: 'RequestEntityTooLarge', retryable: false })
      expect(error.message.length, name).toBeLessThan(500)
      expect(refused() - before, `${name} was sent once`).toBe(1)
    }
    expect(local.liveSessions()).toBe(1) // the oversized create made nothing
  })

  it('keeps serving after refusing', async () => {
    expect((await sdk.runCode(client, s, '6 * 7')).text).toBe('42')
    await sdk.deleteSession(client, s)
    expect(local.liveSessions()).toBe(0)
  })
})

describe('tampered and expired presigned URLs', () => {
  type Tamper = (url: string) => string
  let tamper: Tamper | undefined
  let local: AgbLocal
  let server: Server
  let client: Client
  let s: Session
  // The SDK gets the presigned URL from the API; a fetch in between tampers with it.
  const tampering = (base: FetchLike): FetchLike => async (input, init) => {
    const response = await base(input, init)
    const path = new URL(String(input instanceof Request ? input.url : input)).pathname
    if (!tamper || !/^\/sdk\/GetContextFile(Upload|Download)Url$/.test(path)) return response
    const json = (await response.json()) as { data: { url: string } }
    json.data.url = tamper(json.data.url)
    return new Response(JSON.stringify(json), { status: response.status, headers: response.headers })
  }
  beforeAll(async () => {
    ;({ local, server, client } = await start({}, tampering))
    s = await sdk.createSession(client, { imageId: IMAGE })
    await sdk.uploadFile(client, s, '/home/user/real.txt', 'real content', { pollInterval: 20 })
  })
  afterAll(async () => {
    await server?.close()
    await local?.close()
  })

  const flipSignature: Tamper = (url) => url.replace(/X-Amz-Signature=([0-9a-f])/, (_m, c: string) => `X-Amz-Signature=${c === 'a' ? 'b' : 'a'}`)
  const expired: Tamper = (url) => {
    const creds = { accessKeyId: local.oss.accessKeyId, secretAccessKey: local.oss.accessKeySecret, region: local.oss.region }
    const u = new URL(url)
    return presignUrl(u.searchParams.has('X-Amz-Signature') && /Upload|PUT/.test(url) ? 'PUT' : 'GET', new URL(url.split('?')[0]!), creds, 60, new Date(Date.now() - 2 * 3600_000))
  }
  const otherObject: Tamper = (url) => url.replace(/\/([^/?]+)\?/, '/other-$1?')
  const signatureOf = (url: string) => new URL(url).searchParams.get('X-Amz-Signature') ?? ''

  it('a tampered download URL is unauthorized (403 SignatureDoesNotMatch); the message shows no signature', async () => {
    let used = ''
    tamper = (url) => (used = flipSignature(url))
    const error = expectCode(await rejection(sdk.downloadFile(client, s, '/home/user/real.txt', { pollInterval: 20 })), 'unauthorized')
    expect(error).toMatchObject({ status: 403, retryable: false })
    expect(error.message).toContain('SignatureDoesNotMatch')
    expect(error.message).not.toContain('X-Amz-Signature')
    expect(error.message).not.toContain(signatureOf(used))
  })

  it('an expired download URL is unauthorized (403 Request has expired)', async () => {
    tamper = (url) => {
      const old = expired(url)
      return old.replace(/^[^?]+/, url.split('?')[0]!)
    }
    const error = expectCode(await rejection(sdk.downloadFile(client, s, '/home/user/real.txt', { pollInterval: 20 })), 'unauthorized')
    expect(error.message).toMatch(/Request has expired/)
  })

  it('a download URL re-pointed at another object is unauthorized', async () => {
    tamper = otherObject
    expectCode(await rejection(sdk.downloadFile(client, s, '/home/user/real.txt', { pollInterval: 20 })), 'unauthorized')
  })

  it('a tampered or expired upload URL is unauthorized and nothing reaches the sandbox', async () => {
    for (const t of [flipSignature, expired, otherObject]) {
      tamper = t
      expectCode(await rejection(sdk.uploadFile(client, s, '/home/user/evil.txt', 'evil', { pollInterval: 20 })), 'unauthorized')
    }
    tamper = undefined
    expect((await sdk.exec(client, s, 'test -e /home/user/evil.txt; echo $?')).stdout.trim()).toBe('1')
  })

  it('keeps serving: untampered transfers still work', async () => {
    tamper = undefined
    await sdk.uploadFile(client, s, '/home/user/after.txt', 'after', { pollInterval: 20 })
    expect(new TextDecoder().decode(await sdk.downloadFile(client, s, '/home/user/after.txt', { pollInterval: 20 }))).toBe('after')
  })
})

describe('wrong session tokens on the linkUrl route', () => {
  let local: AgbLocal
  let server: Server
  let client: Client
  let a: Session
  let b: Session
  beforeAll(async () => {
    ;({ local, server, client } = await start({}))
    a = await sdk.createSession(client, { imageId: IMAGE })
    b = await sdk.createSession(client, { imageId: IMAGE })
  })
  afterAll(async () => {
    await server?.close()
    await local?.close()
  })

  const call = (session: Session, headers: Record<string, string>, extra: { query?: string; body?: Record<string, unknown> } = {}) =>
    fetch(`${session.linkUrl}/callTool${extra.query ?? ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ args: { command: 'echo reached' }, server: 'wuying_codespace', requestId: 'link-1', tool: 'shell', ...extra.body }),
    })

  it('refuses a missing, empty, wrong, cross-session or API-key token with 401 AccessDenied, wherever else it is put', async () => {
    expect(a.linkUrl).toMatch(/\/link\//)
    const attempts: [string, Promise<Response>][] = [
      ['no token', call(a, {})],
      ['empty token', call(a, { 'x-access-token': '' })],
      ['wrong token', call(a, { 'x-access-token': 'wrong' })],
      ['a prefix of the token', call(a, { 'x-access-token': a.token!.slice(0, -1) })],
      ["another session's token", call(a, { 'x-access-token': b.token! })],
      ['the API key as token', call(a, { 'x-access-token': local.apiKey })],
      ['the API key as bearer', call(a, { authorization: `Bearer ${local.apiKey}` })],
      ['the token as bearer', call(a, { authorization: `Bearer ${a.token}` })],
      ['the token in the query', call(a, {}, { query: `?token=${a.token}` })],
      ['the token in the body only', call(a, {}, { body: { token: a.token } })],
    ]
    for (const [what, pending] of attempts) {
      const res = await pending
      expect(res.status, what).toBe(401)
      const json = (await res.json()) as Record<string, unknown>
      expect(json, what).toMatchObject({ success: false, code: 'AccessDenied' })
      expect(JSON.stringify(json), what).not.toContain('reached')
    }
  })

  it('refuses a session token on the API routes (403)', async () => {
    const res = await fetch(`${server.url}/mcp/getSessionInfo`, { method: 'POST', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: a.id }) })
    expect(res.status).toBe(403)
    expectCode(await rejection(sdk.getSessionStatus(createClient({ apiKey: a.token!, endpoint: server.url, retry: false }), a)), 'unauthorized')
  })

  it("a released session's token no longer opens anything; the right token still does", async () => {
    const token = b.token!
    await sdk.deleteSession(client, b)
    const gone = await call(b, { 'x-access-token': token })
    expect(gone.status).toBe(404)
    const ok = await call(a, { 'x-access-token': a.token! })
    expect(ok.status).toBe(200)
    const result = JSON.parse(((await ok.json()) as { data: string }).data).result
    expect(JSON.parse(result.content[0].text)).toMatchObject({ stdout: 'reached\n', exit_code: 0 })
  })
})

describe('a flood of session creations beyond maxSessions', () => {
  const MAX = 4
  let local: AgbLocal
  let server: Server
  let client: Client
  beforeAll(async () => {
    ;({ local, server, client } = await start({ maxSessions: MAX }))
  })
  afterAll(async () => {
    await server?.close()
    await local?.close()
  })
  const releaseAll = async () => {
    const { sessions } = await sdk.listSessions(client, { maxResults: 100 })
    await Promise.all(sessions.map((x) => sdk.deleteSession(client, x.id)))
  }

  afterEach(releaseAll)

  it('raw: 30 concurrent creates get at most maxSessions sessions; the rest the soft quota failure', async () => {
    const create = () =>
      fetch(`${server.url}/mcp/createSession?imageId=${IMAGE}`, { method: 'POST', headers: { authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json' }, body: '{}' }).then(
        async (r) => ({ status: r.status, json: (await r.json()) as { success: boolean; data: { success: boolean; sessionId?: string; errMsg?: string } } }),
      )
    const answers = await Promise.all(Array.from({ length: 30 }, create))
    const made = answers.filter((a) => a.json.data.success)
    const refused = answers.filter((a) => !a.json.data.success)
    for (const a of answers) expect(a).toMatchObject({ status: 200, json: { success: true } })
    for (const a of refused) expect(a.json.data.errMsg).toMatch(/quota exceeded/)
    expect(made.length).toBeLessThanOrEqual(MAX)
    expect(local.liveSessions()).toBeLessThanOrEqual(MAX)
  })

  it('SDK: concurrent creates beyond the limit reject with api_error (not retried); the service keeps serving', async () => {
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => sdk.createSession(client, { imageId: IMAGE })))
    const made = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))
    expect(made.length).toBeLessThanOrEqual(MAX)
    for (const e of errors) {
      expectCode(e, 'api_error')
      expect(e).toMatchObject({ retryable: false })
      expect((e as Error).message).toMatch(/quota exceeded/)
    }
    // Still serving: the sessions work, and once released there is room again.
    for (const m of made) expect((await sdk.exec(client, m, 'echo ok')).stdout).toBe('ok\n')
    await Promise.all(made.map((m) => sdk.deleteSession(client, m)))
    const again = await sdk.createSession(client, { imageId: IMAGE })
    expect((await sdk.getSessionStatus(client, again)).toUpperCase()).toBe('RUNNING')
    await sdk.deleteSession(client, again)
    expect(local.liveSessions()).toBe(0)
  })

  it('sequential creates fill exactly maxSessions; the next is refused until one is released', async () => {
    const made: Session[] = []
    for (let i = 0; i < MAX; i++) made.push(await sdk.createSession(client, { imageId: IMAGE }))
    expectCode(await rejection(sdk.createSession(client, { imageId: IMAGE })), 'api_error')
    await sdk.deleteSession(client, made.pop()!)
    made.push(await sdk.createSession(client, { imageId: IMAGE }))
    expect(local.liveSessions()).toBe(MAX)
    await Promise.all(made.map((m) => sdk.deleteSession(client, m)))
  })
})
