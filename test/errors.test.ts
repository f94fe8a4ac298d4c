import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createClient,
  exec,
  getLink,
  isAgbError,
  readFile,
  runCode,
  stat,
  watchDir,
  type AgbError,
  type Session,
} from '../src/index.ts'
import { IMAGE, startLocal, type LocalHarness } from './helpers/local.ts'
import { createSession, deleteSession } from '../src/index.ts'

// Errors that tell the user what happened (the operation, the limit that fired, the request
// id, the path), one shape for every exec/runCode timeout, and per-call options checked like
// the client's. Against AGB Local over loopback HTTP.

let h: LocalHarness
let session: Session
const rejection = (p: Promise<unknown>) => p.then((v) => { throw new Error(`expected a rejection, got ${JSON.stringify(v)}`) }, (e: unknown) => e as AgbError)

beforeAll(async () => {
  h = await startLocal('loopback')
  session = await createSession(h.client, { imageId: IMAGE })
})
afterAll(async () => {
  if (session) await deleteSession(h.client, session).catch(() => undefined)
  await h?.close()
})

describe('messages name the operation and what fired', () => {
  it('a timed-out tool call names the operation, the limit and the request', async () => {
    h.local.faults.add({ tool: 'shell', kind: 'hang' })
    const error = await rejection(exec(h.client, session, 'true', { timeout: 400 }))
    h.local.faults.clear()
    expect(isAgbError(error, 'timeout')).toBe(true)
    expect(error.message).toBe('exec timed out after 400 ms (POST /mcp)')
  })

  it('a per-attempt timeout names retry.attemptTimeout and the attempt', async () => {
    h.local.faults.add({ tool: 'shell', kind: 'hang' })
    const error = await rejection(exec(h.client, session, 'true', { timeout: 5_000, retry: { attemptTimeout: 300 } }))
    h.local.faults.clear()
    expect(isAgbError(error, 'timeout')).toBe(true)
    expect(error.message).toBe('exec timed out after 300 ms (POST /mcp, retry.attemptTimeout, attempt 1)')
  })

  it('a service failure names the operation and carries the request id', async () => {
    const error = await rejection(runCode(h.client, 'no-such-session', '1'))
    expect(isAgbError(error, 'session_not_found')).toBe(true)
    expect(error.message).toMatch(/^runCode: /)
    expect(error.requestId).toBeTruthy()
    expect(error.message).toContain(`request ${error.requestId}`)
  })

  it('reading a missing file is not_found naming the path', async () => {
    for (const [op, call] of [
      ['readFile', () => readFile(h.client, session, '/home/user/missing.txt')],
      ['readFile', () => readFile(h.client, session, '/home/user/missing.txt', { format: 'bytes' })],
      ['stat', () => stat(h.client, session, '/home/user/missing.txt')],
    ] as const) {
      const error = await rejection(call())
      expect(isAgbError(error, 'not_found'), error.message).toBe(true)
      expect(error.message).toMatch(new RegExp(`^${op}: /home/user/missing\\.txt does not exist`))
    }
  })

  it('an endpoint without a scheme at a plain-HTTP server says to write http://', async () => {
    const server: Server = createServer((_, res) => res.end('plain http'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    try {
      const client = createClient({ apiKey: 'akm-x', endpoint: `127.0.0.1:${port}`, retry: false })
      const error = await rejection(exec(client, 's-1', 'true'))
      expect(isAgbError(error, 'network')).toBe(true)
      expect(error.message).toMatch(/^exec network error \(POST \/mcp\)/)
      expect(error.message).toContain(`give the endpoint as http://host:port`)
    } finally {
      server.close()
    }
  })
})

describe('one shape for every exec/runCode timeout', () => {
  for (const timeout of [800, 3_000]) {
    it(`exec with timeout ${timeout} returns timedOut with the output so far, killed at the documented margin`, async () => {
      // The margin: 10 % of timeout, at least 0.5 s (half the timeout below 1 s), at most 5 s.
      const margin = Math.min(5_000, Math.max(timeout / 10, Math.min(500, timeout / 2)))
      const started = Date.now()
      const r = await exec(h.client, session, 'echo started; sleep 30', { timeout })
      const took = Date.now() - started
      expect(r).toMatchObject({ timedOut: true, exitCode: 124, stdout: 'started\n' })
      expect(took).toBeGreaterThanOrEqual(timeout - margin)
      expect(took).toBeLessThan(timeout)
    })
  }

  it('exec: a command that exits 124 by itself is not a timeout', async () => {
    expect(await exec(h.client, session, 'exit 124')).toMatchObject({ exitCode: 124, timedOut: false })
  })

  it('runCode returns timedOut with the output so far, before the call deadline', async () => {
    const started = Date.now()
    const r = await runCode(h.client, session, "print('started', flush=True)\nimport time\ntime.sleep(30)", { timeout: 2_500 })
    expect(Date.now() - started).toBeLessThan(2_500)
    expect(r).toMatchObject({ timedOut: true, success: false, stdout: 'started\n', error: { name: 'TimeoutError' } })
    // The kernel is usable again.
    expect((await runCode(h.client, session, '6 * 7')).text).toBe('42')
  })

  it('runCode refuses a timeout too short to stop the code before the call ends', async () => {
    const error = await rejection(runCode(h.client, session, '1', { timeout: 1_000 }))
    expect(isAgbError(error, 'invalid_input')).toBe(true)
    expect(error.message).toMatch(/at least 1500 ms/)
  })
})

describe('inputs checked before anything is sent', () => {
  it('language is a closed union: ruby fails to type-check and at run time', async () => {
    // @ts-expect-error: 'ruby' is not a Language or an alias.
    const error = await rejection(runCode(h.client, session, 'puts 1', { language: 'ruby' }))
    expect(isAgbError(error, 'invalid_input')).toBe(true)
    expect(error.message).toMatch(/language/)
  })

  it('getLink needs a port in 30100-30199, in the type and at run time', async () => {
    const before = h.local.requests.length
    // @ts-expect-error: port is required.
    const error = await rejection(getLink(h.client, session))
    expect(isAgbError(error, 'invalid_input')).toBe(true)
    expect(error.message).toMatch(/port is required: a sandbox port from 30100 to 30199/)
    expect(isAgbError(await rejection(getLink(h.client, session, { port: 8080 })), 'invalid_input')).toBe(true)
    expect(h.local.requests.length).toBe(before)
  })

  it('a per-call retry is checked like the client one: nothing is sent', async () => {
    const before = h.local.requests.length
    const bad = { attempts: 'three' } as never
    expect(() => createClient({ apiKey: 'k', retry: bad })).toThrow(/^Invalid options\.retry: retry\.attempts must be a whole number from 1/)
    const error = await rejection(exec(h.client, session, 'true', { retry: bad }))
    expect(isAgbError(error, 'invalid_input')).toBe(true)
    expect(error.message).toMatch(/^Invalid options\.retry: retry\.attempts must be a whole number from 1/)
    expect(isAgbError(await rejection(readFile(h.client, session, '/x', { retry: { attempts: 0 } })), 'invalid_input')).toBe(true)
    expect(isAgbError(await rejection(stat(h.client, session, '/x', { retry: { atempts: 2 } as never })), 'invalid_input')).toBe(true)
    expect(h.local.requests.length).toBe(before)
  })

  it('watchDir honours a per-call retry (each poll is one call with the caller\'s options)', async () => {
    // The poll hangs: only the per-call retry.attemptTimeout can cut it before the 5 s timeout.
    h.local.faults.add({ tool: 'get_file_change', kind: 'hang' })
    const started = Date.now()
    const error = await rejection(watchDir(h.client, session, '/home/user', { timeout: 5_000, retry: { attemptTimeout: 200 } })[Symbol.asyncIterator]().next())
    h.local.faults.clear()
    expect(isAgbError(error, 'timeout')).toBe(true)
    expect(error.message).toBe('watchDir timed out after 200 ms (POST /mcp, retry.attemptTimeout, attempt 1)')
    expect(Date.now() - started).toBeLessThan(2_000)
  })
})
