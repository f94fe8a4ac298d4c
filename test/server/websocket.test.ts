import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal, serve } from '../../server/index.ts'
import type { AgbLocal, Server } from '../../server/index.ts'
import { localClient } from './localClient.ts'
import { connect as connectOn, newSession as newSessionOn, openWs } from './wsClient.ts'
import type { Received } from './wsClient.ts'

const fixture = JSON.parse(readFileSync(new URL('../fixtures/agb-api/ws.run-code.stream.json', import.meta.url), 'utf8'))

const local = createAgbLocal()
let server: Server
beforeAll(async () => {
  server = await serve(local)
})
afterAll(async () => {
  await server.close()
  await local.close()
})

// This file's AGB Local unless another is given.
const newSession = (on: { local: AgbLocal; server: Server } = { local, server }) => newSessionOn(on)
const connect = (on: { local: AgbLocal; server: Server } = { local, server }) => connectOn(on)

const data = (frames: Received[]) => frames.map((f) => f.frame.data)
const chunks = (frames: Received[], type: string) => data(frames).filter((d) => d.eventType === type).map((d) => d.chunk).join('')

describe('WebSocket handshake', () => {
  it('upgrades with the session token in X-Access-Token', async () => {
    const { session, client } = await connect()
    expect(session.wsUrl).toBe(`ws://127.0.0.1:${server.port}/ws/${session.sessionId}`)
    expect(local.openSockets(session.sessionId)).toBe(1)
    const seen = local.requests.findLast((r) => r.url.endsWith(`/ws/${session.sessionId}`))
    expect(seen?.headers['x-access-token']).toBe(session.token)
    client.ws.close()
    await client.closed
  })

  it('answers a missing or wrong token with HTTP 401 before upgrading', async () => {
    const session = await newSession()
    await expect(openWs(session.wsUrl, undefined)).rejects.toMatchObject({ status: 401 })
    await expect(openWs(session.wsUrl, 'wrong-token')).rejects.toMatchObject({ status: 401 })
    await expect(openWs(session.wsUrl, local.apiKey)).rejects.toMatchObject({ status: 401 })
    expect(local.openSockets(session.sessionId)).toBe(0)
  })

  it('answers an unknown or released session with HTTP 404', async () => {
    const session = await newSession()
    await expect(openWs(`ws://127.0.0.1:${server.port}/ws/session-unknown`, session.token)).rejects.toMatchObject({ status: 404 })
    await expect(openWs(`ws://127.0.0.1:${server.port}/elsewhere`, session.token)).rejects.toMatchObject({ status: 404 })
    await localClient(local).post('/mcp/releaseSession', { sessionId: session.sessionId })
    await expect(openWs(session.wsUrl, session.token)).rejects.toMatchObject({ status: 404 })
  })
})

describe('WebSocket run_code frames', () => {
  it('streams the fixture frames for the fixture request', async () => {
    const { client } = await connect()
    const request = structuredClone(fixture.frames[0].json)
    // The fixture's result has text/plain and text/html: an object with an HTML repr gives both.
    request.data.params.code += "\nclass R:\n    def __repr__(self): return '42'\n    def _repr_html_(self): return '<b>42</b>'\nR()"
    client.send(request)
    const frames = await client.finished(request.invocationId)
    const expected = fixture.frames.slice(1).map((f: { json: unknown }) => f.json)
    expect(frames.map((f) => f.frame)).toEqual([
      expected[0],
      expected[1],
      expected[2],
      { ...expected[3], data: { ...expected[3].data, executionTime: expect.any(Number) } },
    ])
    client.ws.close()
  })

  it('sends an error event, then an end with status failed and executionError, for an exception', async () => {
    const { client } = await connect()
    const id = client.run('1/0')
    const frames = data(await client.finished(id))
    const error = frames.find((d) => d.eventType === 'error')
    expect(error).toEqual({ method: 'run_code', mode: 'stream', phase: 'event', seq: expect.any(Number), eventType: 'error',
      error: { code: 'ZeroDivisionError', message: 'division by zero', traceId: expect.any(String) } })
    expect(chunks(await client.finished(id), 'stderr')).toContain('Traceback')
    expect(frames.at(-1)).toMatchObject({ phase: 'end', status: 'failed', executionError: 'ZeroDivisionError: division by zero', executionCount: 1 })
    expect(frames.map((d) => d.seq)).toEqual(frames.map((_, i) => i + 1))
    client.ws.close()
  })

  it('streams javascript too, keeping kernel state between invocations', async () => {
    const { client } = await connect()
    await client.finished(client.run('let n = 41', 'javascript'))
    const frames = data(await client.finished(client.run('console.log("js out"); console.error("js err"); n + 1', 'javascript')))
    expect(frames).toEqual([
      { method: 'run_code', mode: 'stream', phase: 'event', seq: 1, eventType: 'stdout', chunk: 'js out\n' },
      { method: 'run_code', mode: 'stream', phase: 'event', seq: 2, eventType: 'stderr', chunk: 'js err\n' },
      { method: 'run_code', mode: 'stream', phase: 'event', seq: 3, eventType: 'result', result: { isMainResult: true, mime: { 'text/plain': '42' } } },
      { method: 'run_code', mode: 'stream', phase: 'end', seq: 4, status: 'finished', executionCount: 2, executionTime: expect.any(Number) },
    ])
    client.ws.close()
  })
})

describe('WebSocket live streaming', () => {
  const PRINTER = 'import sys, time\nfor i in range(6):\n    print(f"line {i}")\n    if i % 2: print(f"err {i}", file=sys.stderr)\n    time.sleep(0.2)'

  it('delivers python output as it is printed, in order, stdout and stderr apart', async () => {
    const { client } = await connect()
    const sent = performance.now()
    const id = client.run(PRINTER)
    const first = await client.next((f) => f.invocationId === id && f.data?.eventType === 'stdout')
    const frames = await client.finished(id)
    const end = frames.at(-1)!
    expect(first.frame.data.chunk).toBe('line 0\n')
    expect(end.frame.data).toMatchObject({ phase: 'end', status: 'finished' })
    // Six lines 200 ms apart: the first arrives about a second before the end (the bound leaves
    // room for a stalled event loop on a busy machine).
    expect(end.at - first.at).toBeGreaterThan(350)
    expect(first.at - sent).toBeLessThan(end.at - sent - 350)
    expect(chunks(frames, 'stdout')).toBe([0, 1, 2, 3, 4, 5].map((i) => `line ${i}\n`).join(''))
    expect(chunks(frames, 'stderr')).toBe('err 1\nerr 3\nerr 5\n')
    expect(data(frames).filter((d) => d.eventType === 'stdout').length).toBe(6) // one frame per line
    client.ws.close()
  })

  it('delivers javascript output as it is logged', async () => {
    const { client } = await connect()
    const id = client.run('for (let i = 0; i < 5; i++) { console.log(`js ${i}`); await new Promise((r) => setTimeout(r, 200)) }', 'javascript')
    const first = await client.next((f) => f.invocationId === id && f.data?.eventType === 'stdout')
    const frames = await client.finished(id)
    expect(frames.at(-1)!.at - first.at).toBeGreaterThan(250)
    expect(chunks(frames, 'stdout')).toBe('js 0\njs 1\njs 2\njs 3\njs 4\n')
    client.ws.close()
  })

  // Java and R run in persistent kernels too: their output must not wait for the end.
  it.each([
    ['java', 'for (int i = 0; i < 4; i++) { System.out.println("jv " + i); Thread.sleep(300); }', 'jv 0\njv 1\njv 2\njv 3\n'],
    ['r', 'for (i in 0:3) { cat("r", i, "\\n"); flush(stdout()); Sys.sleep(0.3) }', 'r 0 \nr 1 \nr 2 \nr 3 \n'],
  ])('delivers %s output as it is printed', async (language, code, expected) => {
    const { client } = await connect()
    const id = client.run(code, language, 60)
    const first = await client.next((f) => f.invocationId === id && f.data?.eventType === 'stdout', 60_000)
    const frames = await client.finished(id, 60_000)
    expect(frames.at(-1)!.frame.data).toMatchObject({ phase: 'end', status: 'finished' })
    expect(frames.at(-1)!.at - first.at).toBeGreaterThan(600)
    expect(chunks(frames, 'stdout')).toBe(expected)
    client.ws.close()
  }, 90_000)

  it('streams a partial line (no newline) without waiting for the end', async () => {
    const { client } = await connect()
    const id = client.run('import time\nprint("progress", end="")\ntime.sleep(1.0)\nprint(" done")')
    const first = await client.next((f) => f.invocationId === id && f.data?.eventType === 'stdout')
    const frames = await client.finished(id)
    expect(first.frame.data.chunk).toBe('progress')
    expect(frames.at(-1)!.at - first.at).toBeGreaterThan(300)
    expect(chunks(frames, 'stdout')).toBe('progress done\n')
    client.ws.close()
  })

  it('streams the output of programs the code starts', async () => {
    const { client } = await connect()
    const id = client.run('import subprocess\nsubprocess.run(["python3", "-c", "import time\\nfor i in range(3):\\n    print(i)\\n    time.sleep(0.3)"])\nNone')
    const first = await client.next((f) => f.invocationId === id && f.data?.eventType === 'stdout')
    const frames = await client.finished(id)
    expect(frames.at(-1)!.at - first.at).toBeGreaterThan(200)
    expect(chunks(frames, 'stdout')).toBe('0\n1\n2\n')
    client.ws.close()
  })
})

describe('WebSocket concurrency and cancel', () => {
  it('keeps concurrent invocations on one socket apart', async () => {
    const { client } = await connect()
    const loop = (tag: string) => `import time\nfor i in range(3):\n    print("${tag}", i)\n    time.sleep(0.05)\n"${tag}-done"`
    const a = client.run(loop('a'))
    const b = client.run(loop('b'))
    const c = client.run('for (let i = 0; i < 3; i++) { console.log("c", i); await new Promise((r) => setTimeout(r, 50)) }\n"c-done"', 'javascript')
    const [fa, fb, fc] = await Promise.all([client.finished(a), client.finished(b), client.finished(c)])
    expect(chunks(fa, 'stdout')).toBe('a 0\na 1\na 2\n')
    expect(chunks(fb, 'stdout')).toBe('b 0\nb 1\nb 2\n')
    expect(chunks(fc, 'stdout')).toBe('c 0\nc 1\nc 2\n')
    for (const [frames, tag] of [[fa, 'a'], [fb, 'b'], [fc, 'c']] as const) {
      expect(data(frames).find((d) => d.eventType === 'result').result.mime['text/plain']).toContain(`${tag}-done`)
      expect(data(frames).map((d) => d.seq)).toEqual(frames.map((_, i) => i + 1))
      expect(data(frames).filter((d) => d.phase === 'end')).toHaveLength(1)
    }
    expect(data(fa).at(-1).executionCount + data(fb).at(-1).executionCount).toBe(3) // python runs one after the other
    client.ws.close()
  })

  it('cancels a python run by interrupting it: failed end with Cancelled, kernel state kept', async () => {
    const { client } = await connect()
    await client.finished(client.run('kept = 7'))
    const id = client.run('import time\nfor i in range(100):\n    print(i)\n    time.sleep(0.1)')
    await client.next((f) => f.invocationId === id && f.data?.eventType === 'stdout')
    const cancelled = performance.now()
    client.cancel(id)
    const frames = await client.finished(id, 5000)
    expect(frames.at(-1)!.at - cancelled).toBeLessThan(1500)
    expect(frames.at(-1)!.frame.data).toMatchObject({ phase: 'end', status: 'failed', executionError: 'Cancelled' })
    expect(data(frames).some((d) => d.eventType === 'error')).toBe(false)
    expect(chunks(frames, 'stdout').split('\n').length).toBeLessThan(20)
    const after = data(await client.finished(client.run('kept * 6')))
    expect(after.find((d) => d.eventType === 'result').result.mime['text/plain']).toBe('42')
    client.ws.close()
  })

  it('cancels a javascript run by restarting the kernel, and a queued run before it starts', async () => {
    const { client } = await connect()
    const busy = client.run('while (true) {}', 'javascript')
    const queued = client.run('console.log("never")', 'javascript')
    await new Promise((r) => setTimeout(r, 300))
    client.cancel(queued)
    client.cancel(busy)
    const [fb, fq] = await Promise.all([client.finished(busy, 5000), client.finished(queued, 5000)])
    expect(fb.at(-1)!.frame.data).toMatchObject({ phase: 'end', status: 'failed', executionError: 'Cancelled' })
    expect(fq.map((f) => f.frame.data)).toEqual([{ method: 'run_code', mode: 'stream', phase: 'end', seq: 1, status: 'failed', executionError: 'Cancelled',
      executionCount: expect.any(Number), executionTime: 0 }])
    const next = data(await client.finished(client.run('6 * 7', 'javascript')))
    expect(next.find((d) => d.eventType === 'result').result.mime['text/plain']).toBe('42')
    client.ws.close()
  })

  it('ends a run that exceeds timeoutS with a TimeoutError', async () => {
    const { client } = await connect()
    const frames = data(await client.finished(client.run('import time\ntime.sleep(30)', 'python', 1)))
    expect(frames.at(-1)).toMatchObject({ phase: 'end', status: 'failed', executionError: expect.stringMatching(/^TimeoutError/) })
    client.ws.close()
  })
})

describe('WebSocket control frames', () => {
  it('answers a {"type":"ping"} text frame with {"type":"pong"} and protocol pings with pongs', async () => {
    const { client } = await connect()
    client.send({ type: 'ping' })
    expect((await client.next((f) => f.type === 'pong')).frame).toEqual({ type: 'pong' })
    const pong = new Promise<string>((resolve) => client.ws.once('pong', (payload) => resolve(String(payload))))
    client.ws.ping('hb-1')
    expect(await pong).toBe('hb-1')
    client.ws.close()
  })

  it('answers malformed and unknown frames with phase error frames', async () => {
    const { client } = await connect()
    client.send('not json')
    expect((await client.next((f) => f.data?.error?.includes('not JSON'))).frame).toEqual({ data: { phase: 'error', error: 'malformed frame: not JSON' } })
    client.send({ source: 'SDK', data: { method: 'run_code', mode: 'stream', params: { code: '1' } } })
    expect((await client.next((f) => f.data?.error?.includes('invocationId'))).frame).not.toHaveProperty('invocationId')
    client.send({ invocationId: 'x1', target: 'wuying_codespace', data: { method: 'shell', mode: 'stream' } })
    expect((await client.next((f) => f.invocationId === 'x1')).frame).toEqual({ invocationId: 'x1', target: 'wuying_codespace', data: { phase: 'error', error: expect.stringContaining('unsupported method') } })
    client.send({ invocationId: 'x2', data: { method: 'run_code', mode: 'stream', params: { code: '1', language: 'cobol' } } })
    expect((await client.next((f) => f.invocationId === 'x2')).frame.data).toEqual({ phase: 'error', error: expect.stringContaining('unsupported language') })
    client.send({ invocationId: 'x3', data: { method: 'run_code', mode: 'stream', params: {} } })
    expect((await client.next((f) => f.invocationId === 'x3')).frame.data.phase).toBe('error')
    // The socket still works.
    const ok = data(await client.finished(client.run('1 + 1')))
    expect(ok.at(-1)).toMatchObject({ phase: 'end', status: 'finished' })
    client.ws.close()
  })
})

describe('WebSocket lifecycle', () => {
  it('dropSockets destroys the connection abruptly and cancels its runs', async () => {
    const { session, client } = await connect()
    const id = client.run('import time\nfor i in range(100):\n    print(i)\n    time.sleep(0.1)')
    await client.next((f) => f.invocationId === id && f.data?.eventType === 'stdout')
    expect(local.dropSockets(session.sessionId)).toBe(1)
    expect(await client.closed).toBe(1006) // no close frame: as a network failure
    expect(local.openSockets(session.sessionId)).toBe(0)
    // The interrupted run no longer occupies the kernel: a new socket's run starts at once.
    const again = await openWs(session.wsUrl, session.token)
    const started = performance.now()
    const frames = await again.finished(again.run('"free"'), 3000)
    expect(performance.now() - started).toBeLessThan(2500)
    expect(frames.at(-1)!.frame.data.status).toBe('finished')
    again.ws.close()
  })

  it('closes the session sockets with code 1000 when the session is released', async () => {
    const { session, client } = await connect()
    const other = await openWs(session.wsUrl, session.token)
    await localClient(local).post('/mcp/releaseSessionAsync', { sessionId: session.sessionId })
    expect(await client.closed).toBe(1000)
    expect(await other.closed).toBe(1000)
  })

  it('closes every socket with code 1001 on close(), and serve().close() drops them', async () => {
    const mine = createAgbLocal()
    const myServer = await serve(mine)
    try {
      const { client } = await connect({ local: mine, server: myServer })
      await mine.close()
      expect(await client.closed).toBe(1001)
      const other = createAgbLocal()
      const otherServer = await serve(other)
      const { client: second } = await connect({ local: other, server: otherServer })
      await otherServer.close()
      expect(await second.closed).toBe(1006)
      await other.close()
    } finally {
      await myServer.close()
      await mine.close()
    }
  })

  it('cancels the runs of a socket the client closed', async () => {
    const { session, client } = await connect()
    const id = client.run('import time\nfor i in range(100):\n    print(i)\n    time.sleep(0.1)')
    await client.next((f) => f.invocationId === id && f.data?.eventType === 'stdout')
    client.ws.close()
    await client.closed
    const started = performance.now()
    const res = await localClient(local).runCode(session.sessionId, '"idle"')
    expect(res.result[0]['text/plain']).toBe("'idle'")
    expect(performance.now() - started).toBeLessThan(2500) // not queued behind the 10 s loop
  })
})
