import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal, serve } from '../server/index.ts'
import type { AgbLocal, Server } from '../server/index.ts'
import * as sdk from '../src/index.ts'
import {
  createClient,
  createSession,
  deleteSession,
  exec,
  getSessionStatus,
  isAgbError,
  listSessions,
  readFile,
  runCode,
  withSession,
  writeFile,
  type Client,
} from '../src/index.ts'
import { IMAGE, startLocal, type LocalHarness } from './helpers/local.ts'
import { eventually, leftovers, settleLeaks } from './helpers/noLeaks.ts'

// No leaked sessions: after thrown errors, aborts, timeouts and failed post-create steps,
// inside withSession and `await using`, AGB Local (over real loopback HTTP) reports zero live
// sessions and zero sandbox processes. Sessions do real work first (kernels, shell commands),
// so a leak would be a paid sandbox still running code.

let local: AgbLocal
let server: Server
let client: Client
/** Milliseconds AGB Local takes before it starts creating a session (the cloud takes seconds). */
let createDelay = 0

beforeAll(async () => {
  local = createAgbLocal()
  // The same AgbLocal, served with an optional delay in front of createSession: a slow create
  // is what an abort usually interrupts in production.
  const handler = async (req: Request) => {
    if (createDelay && new URL(req.url).pathname === '/mcp/createSession') {
      // The request has fully arrived (as at a real service) before the caller's abort; the
      // service then takes its time creating. AGB Local reads bodies on demand, so read it now.
      const body = await req.arrayBuffer()
      await new Promise((r) => setTimeout(r, createDelay))
      return local.handler(new Request(req.url, { method: req.method, headers: req.headers, body }))
    }
    return local.handler(req)
  }
  server = await serve({ ...local, handler })
  client = createClient({ apiKey: local.apiKey, endpoint: server.url })
})

afterEach(async () => {
  // One leaking test must not fail the next: release whatever is left (and say so above).
  createDelay = 0
  local.faults.clear()
  const { sessions } = await listSessions(client, { maxResults: 100 })
  await Promise.all(sessions.map((s) => deleteSession(client, s.id).catch(() => undefined)))
})

afterAll(async () => {
  await server?.close()
  await local?.close()
})

const NONE = { sessions: 0, processes: 0 }
const boom = new Error('boom')
const abortAfter = (ms: number) => {
  const controller = new AbortController()
  setTimeout(() => controller.abort(), ms)
  return controller.signal
}
const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e)
/** Resolves once AGB Local has at least one live session (the create reached the service). */
const created = () => eventually(() => local.liveSessions() > 0, 5_000, 5)

describe('withSession', () => {
  it('deletes the session when fn throws after starting a kernel and a command', async () => {
    const error = await rejection(
      withSession(client, { imageId: IMAGE }, async (s) => {
        await runCode(client, s, 'x = 1')
        await exec(client, s, 'true')
        expect(leftovers(local).processes).toBeGreaterThan(0) // the python kernel
        throw boom
      }),
    )
    expect(error).toBe(boom)
    expect(await settleLeaks(local)).toEqual(NONE)
  })

  it("deletes the session when fn's work is aborted mid-call", async () => {
    const signal = abortAfter(400)
    const error = await rejection(withSession(client, { imageId: IMAGE }, (s) => exec(client, s, 'sleep 30', { signal })))
    expect(isAgbError(error, 'aborted')).toBe(true)
    expect(await settleLeaks(local)).toEqual(NONE)
  })

  it('deletes the session when a post-create step fails', async () => {
    const error = await rejection(
      withSession(client, { imageId: IMAGE }, async (s) => {
        await writeFile(client, s, '/home/user/in.txt', 'data')
        return readFile(client, s, '/home/user/missing.txt')
      }),
    )
    expect(isAgbError(error, 'not_found')).toBe(true)
    expect(await settleLeaks(local)).toEqual(NONE)
  })

  it('deletes the session when its release first hits a transient 503', async () => {
    local.faults.add({ route: '/mcp/releaseSessionAsync', kind: 'status', status: 503 })
    const error = await rejection(
      withSession(client, { imageId: IMAGE }, async (s) => {
        await runCode(client, s, 'x = 1')
        throw boom
      }),
    )
    expect(error).toBe(boom)
    expect(local.faults.pending()).toBe(0)
    expect(await settleLeaks(local)).toEqual(NONE)
  })

  it('leaks nothing when many concurrent sessions are aborted at staggered moments of their work', async () => {
    const delays = [0, 30, 60, 120, 200, 300, 450, 600, 800, 1_000]
    const results = await Promise.all(
      delays.map((ms) =>
        rejection(
          withSession(client, { imageId: IMAGE }, async (s) => {
            const signal = abortAfter(ms) // starts once the session exists
            await runCode(client, s, 'import time\ntime.sleep(0.2)', { signal })
            await exec(client, s, 'sleep 0.2', { signal })
            await writeFile(client, s, '/home/user/out.txt', 'x'.repeat(10_000), { signal })
            await exec(client, s, 'sleep 30', { signal })
          }),
        ),
      ),
    )
    expect(results.every((e) => isAgbError(e, 'aborted'))).toBe(true)
    expect(await settleLeaks(local)).toEqual(NONE)
  }, 30_000)
})

describe('await using', () => {
  it('deletes the session on a thrown error', async () => {
    const error = await rejection(
      (async () => {
        await using s = await createSession(client, { imageId: IMAGE })
        await runCode(client, s, 'x = 1')
        throw boom
      })(),
    )
    expect(error).toBe(boom)
    expect(await settleLeaks(local)).toEqual(NONE)
  })

  it('deletes the session when a post-create step fails', async () => {
    const error = await rejection(
      (async () => {
        await using s = await createSession(client, { imageId: IMAGE })
        await writeFile(client, s, '/home/user/once.txt', 'first')
        await writeFile(client, s, '/home/user/once.txt', 'second', { mode: 'create_new' })
      })(),
    )
    expect(isAgbError(error, 'tool_error')).toBe(true)
    expect(await settleLeaks(local)).toEqual(NONE)
  })

  it('deletes the session when a running cell is aborted', async () => {
    const error = await rejection(
      (async () => {
        await using s = await createSession(client, { imageId: IMAGE })
        await runCode(client, s, 'import time\ntime.sleep(30)', { signal: abortAfter(600) })
      })(),
    )
    expect(isAgbError(error, 'aborted')).toBe(true)
    expect(await settleLeaks(local)).toEqual(NONE)
  })

  it('deletes the session when a command outlives its timeout', async () => {
    const result = await (async () => {
      await using s = await createSession(client, { imageId: IMAGE })
      return await exec(client, s, 'echo started; sleep 30', { timeout: 1_200 })
    })()
    expect(result, JSON.stringify(result)).toMatchObject({ timedOut: true, exitCode: 124, stdout: 'started\n' })
    expect(await settleLeaks(local)).toEqual(NONE)
  })
})

describe('aborts and timeouts while createSession is in flight', () => {
  // The service has created the session but its answer is still arriving (dripped byte by
  // byte): the caller never gets a handle, so the SDK must find the tagged session and delete it.
  const dripCreate = () => local.faults.add({ route: '/mcp/createSession', kind: 'slow-drip', intervalMs: 50 })

  it('an abort: the SDK finds the tagged session and deletes it in the background', async () => {
    dripCreate()
    const controller = new AbortController()
    const pending = rejection(createSession(client, { imageId: IMAGE, signal: controller.signal }))
    expect(await created()).toBe(true)
    controller.abort()
    expect(isAgbError(await pending, 'aborted')).toBe(true)
    expect(await settleLeaks(local)).toEqual(NONE)
  })

  it('a timeout: the same background cleanup', async () => {
    dripCreate()
    const error = await rejection(createSession(client, { imageId: IMAGE, timeout: 700 }))
    expect(isAgbError(error, 'timeout')).toBe(true)
    expect(await settleLeaks(local)).toEqual(NONE)
  })

  it('an abort of withSession during its create: fn never runs, nothing leaks', async () => {
    dripCreate()
    const controller = new AbortController()
    let ran = false
    const pending = rejection(
      withSession(client, { imageId: IMAGE, signal: controller.signal }, () => {
        ran = true
      }),
    )
    expect(await created()).toBe(true)
    controller.abort()
    expect(isAgbError(await pending, 'aborted')).toBe(true)
    expect(ran).toBe(false)
    expect(await settleLeaks(local)).toEqual(NONE)
  })

  it('an abort while the service is still creating the session (a slow create) leaks nothing', async () => {
    // The abort lands before the session exists; it appears a moment later. One immediate
    // lookup of the tag finds nothing: the cleanup has to keep looking for a while.
    createDelay = 600
    const error = await rejection(createSession(client, { imageId: IMAGE, signal: abortAfter(150) }))
    expect(isAgbError(error, 'aborted')).toBe(true)
    expect(await created()).toBe(true) // the service did create it
    expect(await settleLeaks(local)).toEqual(NONE)
  })

  it('an abort with retries off (no tag to look up) leaks nothing', async () => {
    dripCreate()
    const controller = new AbortController()
    const pending = rejection(createSession(client, { imageId: IMAGE, signal: controller.signal, retry: false }))
    expect(await created()).toBe(true)
    controller.abort()
    expect(isAgbError(await pending, 'aborted')).toBe(true)
    expect(await settleLeaks(local)).toEqual(NONE)
  })
})

describe('contextSyncs whose wait fails', () => {
  async function context(name: string): Promise<string> {
    const res = await fetch(`${server.url}/sdk/GetContext?name=${name}&allowCreate=true`, { headers: { authorization: `Bearer ${local.apiKey}` } })
    return ((await res.json()) as { data: { id: string } }).data.id
  }
  const waitIn = (contextId: string, options: sdk.WaitForContextsOptions) =>
    rejection(withSession(client, { imageId: IMAGE, contextSyncs: sdk.contextSyncs([{ contextId, path: '/home/user/data' }]) }, (s) => sdk.waitForContexts(client, s, options)))

  it('createSession itself does not wait: no GetContextInfo request (waiting is opt-in)', async () => {
    const contextId = await context('leak-optin')
    const before = local.requests.length
    await withSession(client, { imageId: IMAGE, contextSyncs: sdk.contextSyncs([{ contextId, path: '/home/user/data' }]) }, () => undefined)
    expect(local.requests.slice(before).filter((r) => r.url.includes('/sdk/GetContextInfo'))).toEqual([])
  })

  it('withSession deletes the session when GetContextInfo keeps failing', async () => {
    const contextId = await context('leak-fail')
    local.faults.add({ route: '/sdk/GetContextInfo', kind: 'status', status: 500, times: Infinity })
    const error = await waitIn(contextId, { pollInterval: 20, retry: { attempts: 2, baseDelay: 10 } })
    expect(isAgbError(error, 'server_error')).toBe(true)
    expect((error as Error).message).toMatch(/^waitForContexts: /)
    expect(await settleLeaks(local)).toEqual(NONE)
  })

  it('withSession deletes the session when GetContextInfo refuses (success:false)', async () => {
    const contextId = await context('leak-refuse')
    local.faults.add({ route: '/sdk/GetContextInfo', kind: 'envelope-failure', status: 400, code: 'InvalidParameter', message: 'bad sync' })
    const error = await waitIn(contextId, { pollInterval: 20 })
    expect(isAgbError(error, 'api_error')).toBe(true)
    expect(await settleLeaks(local)).toEqual(NONE)
  })

  it('withSession deletes the session when GetContextInfo hangs past the wait timeout', async () => {
    const contextId = await context('leak-hang')
    local.faults.add({ route: '/sdk/GetContextInfo', kind: 'hang' })
    const error = await waitIn(contextId, { pollInterval: 20, timeout: 800 })
    expect(isAgbError(error, 'timeout')).toBe(true)
    expect((error as Error).message).toMatch(/^waitForContexts timed out after 800 ms/)
    expect(await settleLeaks(local)).toEqual(NONE)
  })
})

describe('over the injected transport (a fetch that does not honour its signal)', () => {
  // AGB Local's `local.fetch` runs the handler to completion whatever the request's signal
  // says, as some injected fetches do (test doubles, service bindings). The SDK's abort and
  // deadline must not depend on the fetch honouring them.
  let h: LocalHarness
  beforeAll(async () => {
    h = await startLocal('inject')
  })
  afterAll(() => h?.close())

  it('withSession still rejects with aborted promptly and deletes the session', async () => {
    let called = 0
    let aborted = 0
    const error = await rejection(
      withSession(h.client, { imageId: IMAGE }, (s) => {
        called = Date.now()
        return exec(h.client, s, 'sleep 3', { signal: abortAfter(300) }).finally(() => (aborted = Date.now()))
      }),
    )
    expect(isAgbError(error, 'aborted'), String(error)).toBe(true)
    // The 3 s command is abandoned at 300 ms, though the fetch runs on; the session's creation
    // and deletion (disk image, mounts) are not what is timed here.
    expect(aborted - called).toBeLessThan(1_500)
    expect(await settleLeaks(h.local)).toEqual(NONE)
  })

  it('a call past its timeout rejects with timeout within a second of it', async () => {
    const s = await createSession(h.client, { imageId: IMAGE })
    // The shell tool never answers; the injected fetch ignores the call's signal.
    h.local.faults.add({ tool: 'shell', kind: 'hang' })
    const started = Date.now()
    const error = await rejection(exec(h.client, s, 'sleep 3', { timeout: 300 }))
    h.local.faults.clear()
    expect(isAgbError(error, 'timeout'), String(error)).toBe(true)
    expect((error as Error).message).toMatch(/^exec timed out after 300 ms/)
    expect(Date.now() - started).toBeLessThan(1_300)
    await deleteSession(h.client, s)
    expect(await settleLeaks(h.local)).toEqual(NONE)
  })

  it('any fetch: a slow answer is cut at the deadline (SDK-level repro, no AGB Local)', async () => {
    const slow: sdk.FetchLike = () => new Promise((resolve) => setTimeout(() => resolve(new Response(JSON.stringify({ success: true, data: { status: 'RUNNING' } }))), 2_000))
    const started = Date.now()
    const error = await rejection(getSessionStatus(createClient({ apiKey: 'k', fetch: slow }), 's-1', { timeout: 200 }))
    expect(isAgbError(error, 'timeout'), String(error)).toBe(true)
    expect(Date.now() - started).toBeLessThan(1_200)
  })
})
