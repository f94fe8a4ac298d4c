import { WebSocket as WsWebSocket } from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  collectCode,
  attachProcess,
  createClient,
  createSession,
  deleteSession,
  exec,
  isAgbError,
  richResults,
  runCode,
  spawn,
  streamCode,
  type CodeEvent,
  type Client,
  type Session,
} from '../src/index.ts'
import { IMAGE, startLocal, type LocalHarness } from './helpers/local.ts'

// Streams need a socket: these run over a real loopback AGB Local. Node 20 has no global
// WebSocket, so the client gets `ws`'s (as a Node 20 user would).
const webSocket = (globalThis as { WebSocket?: unknown }).WebSocket ? undefined : (WsWebSocket as never)

let h: LocalHarness
let client: Client
let session: Session
beforeAll(async () => {
  h = await startLocal('loopback')
  client = createClient({ apiKey: h.local.apiKey, endpoint: h.url, ...(webSocket ? { webSocket } : {}) })
  session = await createSession(client, { imageId: IMAGE })
})
afterAll(async () => {
  await deleteSession(client, session).catch(() => undefined)
  await h.close()
})

const PRINTER = "import time, sys\nfor i in range(6):\n    print(f'line {i}', flush=True)\n    if i == 2: print('oops', file=sys.stderr, flush=True)\n    time.sleep(0.2)\n'done'"

async function collect(stream: AsyncIterable<CodeEvent>) {
  const started = Date.now()
  const events: (CodeEvent & { at: number })[] = []
  for await (const e of stream) events.push({ ...e, at: Date.now() - started })
  return events
}

describe('streamCode', () => {
  it('delivers output live, in order, stdout and stderr apart, then an end event', async () => {
    const events = await collect(streamCode(client, session, PRINTER))
    const stdout = events.filter((e) => e.type === 'stdout')
    const end = events.at(-1)!
    expect(end).toMatchObject({ type: 'end', status: 'finished' })
    expect(stdout[0]!.at).toBeLessThan(end.at - 300)
    expect(stdout.map((e) => (e as { text: string }).text).join('')).toBe([0, 1, 2, 3, 4, 5].map((i) => `line ${i}\n`).join(''))
    expect(events.filter((e) => e.type === 'stderr').map((e) => (e as { text: string }).text).join('')).toBe('oops\n')
    expect(events.find((e) => e.type === 'result')).toMatchObject({ result: { text: "'done'" } })
  })

  it('reports an exception once, as an error event, and ends failed', async () => {
    const events = await collect(streamCode(client, session, "print('before')\nraise ValueError('bad value')"))
    expect(events.filter((e) => e.type === 'error')).toHaveLength(1)
    expect(events.find((e) => e.type === 'error')).toMatchObject({ error: { value: expect.stringContaining('bad value') } })
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'failed' })
  })

  it('collectCode(streamCode) gets chunks live and the same assembled result as runCode', async () => {
    const chunks: string[] = []
    const result = await collectCode(streamCode(client, session, PRINTER), { onStdout: (t) => chunks.push(t) })
    expect(chunks.length).toBeGreaterThanOrEqual(6)
    expect(result).toMatchObject({ success: true, stdout: expect.stringContaining('line 5'), stderr: 'oops\n', text: "'done'", timedOut: false })
    const plain = await runCode(client, session, PRINTER)
    // runCode keeps the items as sent, the stream decodes them: richResults reads both alike.
    const same = (r: typeof plain) => ({ ...r, results: richResults(r), requestId: '', executionTime: 0, executionCount: 0 })
    expect(same(result)).toEqual(same(plain))
  })

  it('runCode rejects onStdout and points at collectCode (live output is opt-in)', async () => {
    const error = await runCode(client, session, '1', { onStdout: () => undefined } as never).catch((e: unknown) => e)
    expect(isAgbError(error, 'invalid_input')).toBe(true)
    expect((error as Error).message).toContain('collectCode(streamCode(')
  })

  it('two concurrent streams on one session do not mix', async () => {
    const [a, b] = await Promise.all([
      collect(streamCode(client, session, "for i in range(5): print('A', i, flush=True)")),
      collect(streamCode(client, session, "for i in range(5): print('B', i, flush=True)", { language: 'python' })),
    ])
    const text = (events: CodeEvent[]) => events.flatMap((e) => (e.type === 'stdout' ? [e.text] : [])).join('')
    expect(text(a)).toBe([0, 1, 2, 3, 4].map((i) => `A ${i}\n`).join(''))
    expect(text(b)).toBe([0, 1, 2, 3, 4].map((i) => `B ${i}\n`).join(''))
    expect(h.local.openSockets(session.id)).toBe(1)
  })

  it('cancelling a stream mid-way stops the remote run', async () => {
    const marker = `/tmp/cancel-${Date.now()}`
    const stream = streamCode(client, session, `import time\nfor i in range(50):\n    print(i, flush=True)\n    open('${marker}', 'w').write(str(i))\n    time.sleep(0.1)`)
    const reader = stream.getReader()
    await reader.read()
    await reader.read()
    await reader.cancel()
    // The cancel travels as a frame, then a kernel interrupt: wait until the counter holds still
    // (it moves every 100 ms while the run goes on), then check that it stays so.
    let a = ''
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 300))
      const now = (await exec(client, session, `cat ${marker}`)).stdout
      if (now === a) break
      a = now
    }
    await new Promise((r) => setTimeout(r, 500))
    const b = (await exec(client, session, `cat ${marker}`)).stdout
    expect(Number(b)).toBeLessThan(20)
    expect(b).toBe(a) // nothing ran after the cancel settled
    expect((await runCode(client, session, '1 + 1')).text).toBe('2')
  })

  it('aborting with a signal errors the stream with aborted', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 300)
    const error = await collect(streamCode(client, session, 'import time\ntime.sleep(5)', { signal: controller.signal })).catch((e: unknown) => e)
    expect(isAgbError(error, 'aborted')).toBe(true)
  })

  it('a dropped socket ends the stream with a typed network error, never a silent end', async () => {
    const started = Date.now()
    const stream = streamCode(client, session, 'import time\nfor i in range(100):\n    print(i, flush=True)\n    time.sleep(0.1)', { idleTimeout: 5_000 })
    const reader = stream.getReader()
    await reader.read()
    h.local.dropSockets(session.id)
    let error: unknown
    try {
      for (;;) if ((await reader.read()).done) break
    } catch (e) {
      error = e
    }
    expect(isAgbError(error, 'network')).toBe(true)
    expect(Date.now() - started).toBeLessThan(5_000)
    // The next stream reconnects.
    const events = await collect(streamCode(client, session, "print('back')"))
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'finished' })
  })

  it('deleteSession closes the session socket', async () => {
    const other = await createSession(client, { imageId: IMAGE })
    await collect(streamCode(client, other, "print('x')"))
    expect(h.local.openSockets(other.id)).toBe(1)
    await deleteSession(client, other)
    await expect.poll(() => h.local.openSockets(other.id), { timeout: 3_000 }).toBe(0)
  })
})

describe('spawn', () => {
  it('runs a background process, tails its output and returns the real exit code', async () => {
    const proc = await spawn(client, session, 'for i in 1 2 3; do echo out $i; sleep 0.1; done; echo err >&2; exit 4')
    const chunks: { stream: string; text: string }[] = []
    for await (const c of proc.output({ interval: 50 })) chunks.push(c)
    expect(chunks.filter((c) => c.stream === 'stdout').map((c) => c.text).join('')).toBe('out 1\nout 2\nout 3\n')
    expect(chunks.filter((c) => c.stream === 'stderr').map((c) => c.text).join('')).toBe('err\n')
    expect(await proc.wait()).toBe(4)
  })

  it('kill() stops a spawned sleep 30', async () => {
    const proc = await spawn(client, session, 'sleep 30')
    expect((await exec(client, session, `kill -0 ${proc.pid} && echo alive`)).stdout.trim()).toBe('alive')
    const started = Date.now()
    expect(await proc.kill()).toBe(true)
    const code = await proc.wait({ interval: 100, timeout: 10_000 })
    expect(code).not.toBe(0)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect((await exec(client, session, `kill -0 ${proc.pid} 2>/dev/null || echo gone`)).stdout.trim()).toBe('gone')
  })

  it('a re-attached handle in a fresh client reads the rest of the output', async () => {
    const proc = await spawn(client, session, 'for i in 1 2 3 4 5 6; do echo step $i; sleep 0.15; done')
    const stored = JSON.stringify(proc)
    // Read the first chunk, remember the offset, then forget everything.
    const reader = proc.output({ interval: 50 }).getReader()
    const first = (await reader.read()).value!
    await reader.cancel()
    const fresh = createClient({ apiKey: h.local.apiKey, endpoint: h.url })
    const again = attachProcess(fresh, JSON.parse(stored))
    let rest = ''
    for await (const c of again.output({ stdoutOffset: first.offset, interval: 50 })) rest += c.text
    expect(first.text + rest).toBe([1, 2, 3, 4, 5, 6].map((i) => `step ${i}\n`).join(''))
    expect(await again.wait()).toBe(0)
  })
})

describe('streaming through agb-micro/proxy (the browser path)', () => {
  it('streams the same events as NDJSON over fetch, for a keyless client', async () => {
    const { createProxyHandler } = await import('../src/proxy.ts')
    const proxy = createProxyHandler({ apiKey: h.local.apiKey, endpoint: h.url, public: true, ...(webSocket ? { webSocket } : {}) })
    const browser = createClient({ endpoint: 'https://app.example/agb', proxy: true, fetch: (input, init) => proxy(new Request(String(input).replace('https://app.example/agb', 'https://app.example'), init)) })
    const s = await createSession(browser, { imageId: IMAGE })
    const events = await collect(streamCode(browser, s, PRINTER))
    expect(events.filter((e) => e.type === 'stdout')).toHaveLength(6)
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'finished' })
    const failing = await collect(streamCode(browser, s, "raise KeyError('k')"))
    expect(failing.at(-1)).toMatchObject({ type: 'end', status: 'failed' })
    await deleteSession(browser, s)
  })

  it('a stream error upstream reaches the browser as the same typed error', async () => {
    const { createProxyHandler } = await import('../src/proxy.ts')
    const proxy = createProxyHandler({ apiKey: h.local.apiKey, endpoint: h.url, public: true, ...(webSocket ? { webSocket } : {}) })
    const browser = createClient({ endpoint: 'https://app.example', proxy: true, fetch: (input, init) => proxy(new Request(input, init)) })
    const s = await createSession(browser, { imageId: IMAGE })
    const stream = streamCode(browser, s, 'import time\nfor i in range(100):\n    print(i, flush=True)\n    time.sleep(0.1)')
    const reader = stream.getReader()
    await reader.read()
    h.local.dropSockets()
    let error: unknown
    try {
      for (;;) if ((await reader.read()).done) break
    } catch (e) {
      error = e
    }
    expect(isAgbError(error, 'network')).toBe(true)
    await deleteSession(browser, s)
  })
})
