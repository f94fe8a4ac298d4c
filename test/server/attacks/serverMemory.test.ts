import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal, serve } from '../../../server/index.ts'
import { connect, openWs } from '../wsClient.ts'
import { attackTable } from './attackTable.ts'
import { startLocalChild, type LocalChild } from './childLocal.ts'

// Attacks on the memory of AGB Local itself (not the session's: that one has its cgroup
// limit). The server holds what a sandbox produces until a client takes it, so sandboxed code
// that produces faster than anyone reads, or a request that multiplies a file, must not grow
// the server without bound: one session could otherwise take every other session down with
// it. AGB Local runs in a child process, so its peak resident memory (VmHWM, reset before each
// attack) is the server's alone. Each attack is 100-300 MB: a server that buffers it shows it.

const MiB = 1024 * 1024
const report = attackTable('Attacks on the memory of AGB Local itself')
afterAll(() => report.print())

let child: LocalChild

beforeAll(async () => {
  child = await startLocalChild()
}, 60_000)
afterAll(() => child.stop())

/** Runs `attack`; returns its result and how far the server's resident memory rose above where it was (MiB). */
async function measured<T>(attack: () => Promise<T>): Promise<{ value: T; growthMiB: number }> {
  child.resetPeak()
  const before = child.statusKiB('VmRSS')
  const value = await attack()
  return { value, growthMiB: Math.round((child.statusKiB('VmHWM') - before) / 1024) }
}

/** The server's heap after a full garbage collection (MiB): what it keeps, not what it has yet to free. */
async function retainedHeapMiB(): Promise<number> {
  return Math.round((await child.retained()).heapUsed / 1024 / 1024)
}

async function newSession(): Promise<{ sessionId: string; wsUrl: string; token: string }> {
  const created = await child.post('/mcp/createSession?imageId=agb-code-space-1', {})
  if (!created.data?.sessionId) throw new Error(`createSession: ${JSON.stringify(created)}`)
  return created.data
}

async function runCode(sessionId: string, code: string, timeout_s = 60): Promise<Record<string, any> & { answerBytes: number }> {
  const { text } = await child.callTool(sessionId, 'run_code', { code, language: 'python', timeout_s })
  return { ...JSON.parse(text), answerBytes: text.length }
}

const release = (sessionId: string) => child.post('/mcp/releaseSessionAsync', { sessionId })

describe('the kernel event pipe (fd 3) written by the code it runs', () => {
  it('a 256 MiB line without a newline stops that kernel with a clear error; the server does not buffer it', async () => {
    const { sessionId } = await newSession()
    await runCode(sessionId, 'x = 1') // the kernel is up: its start is not the attack
    const started = performance.now()
    const { value: run, growthMiB } = await measured(() => runCode(sessionId, "import os\nb = b'A' * (1 << 20)\nfor i in range(256): os.write(3, b)\nprint('done')", 60))
    const seconds = (performance.now() - started) / 1000
    report.add('run_code writes 256 MiB to fd 3, no newline', `${run.executionError?.slice(0, 60)}… in ${seconds.toFixed(1)} s; server grew ${growthMiB} MiB`)
    expect(run.executionError).toMatch(/^KernelDied: python kernel stopped: its event pipe \(fd 3\) got a line of over \d+ bytes \(at most 16 MiB/)
    expect(seconds).toBeLessThan(30) // not the 60 s timeout: stopped as the line passed the cap
    expect(growthMiB).toBeLessThan(100)
    // Only that kernel stopped: the session and the server go on (a fresh kernel, state lost).
    const next = await runCode(sessionId, "print('alive', 'x' in globals())")
    expect(next.stdout.join('')).toBe('alive False\n')
    await release(sessionId)
  }, 120_000)

  it('ordinary code printing or returning 20 MB is cut as before: the drivers keep their own events under the bound', async () => {
    const { sessionId } = await newSession()
    const cases: Array<[string, string, string]> = [
      ['python', "x = 5\nprint('y' * 20_000_000)\n'z' * 20_000_000", 'stdout'],
      ['javascript', "var x = 5; console.log('y'.repeat(2e7)); 'z'.repeat(2e7)", 'stdout'],
      ['java', 'int x = 5;\nSystem.out.print("y".repeat(20000000));\n"z".repeat(20000000)', 'stdout'],
      ['r', "x <- 5\ncat(strrep('y', 2e7))\nstrrep('z', 2e7)", 'stdout'],
      ['python', "raise ValueError('e' * 20_000_000)", 'stderr'],
    ]
    for (const [language, code, stream] of cases) {
      const { text } = await child.callTool(sessionId, 'run_code', { code, language, timeout_s: 60 })
      const run = JSON.parse(text)
      const printed = run[stream].join('')
      expect(printed.length, language).toBeLessThan(MiB + 100)
      expect(printed, language).toMatch(/\n…\[truncated \d+ bytes\]\n$/)
      if (language === 'python' && stream === 'stderr') expect(run.executionError).toMatch(/^ValueError: e{1000000}…\[truncated 19000000 characters\]$/)
      else expect(run.executionError, language).toBeUndefined()
      if (stream === 'stdout') expect(run.result[0]['text/plain'], language).toMatch(/^(\[1\] ")?['"]?z{1000}/)
    }
    // Every kernel kept its state (none was stopped).
    const show: Record<string, string> = { python: 'print(x)', javascript: 'console.log(x)', java: 'System.out.println(x);', r: 'cat(paste0(x, "\\n"))' }
    for (const [language, code] of Object.entries(show)) {
      const { text } = await child.callTool(sessionId, 'run_code', { code, language, timeout_s: 60 })
      expect(JSON.parse(text).stdout.join(''), language).toBe('5\n')
    }
    await release(sessionId)
  }, 180_000)

  it('300 forged 1 MiB results keep at most maxResultBytes (32 MiB) and say how many were dropped', async () => {
    const { sessionId } = await newSession()
    await runCode(sessionId, 'x = 1')
    const code = "import os, json\nline = (json.dumps({'type': 'result', 'isMainResult': False, 'data': {'image/png': 'A' * (1 << 20)}}) + '\\n').encode()\nfor i in range(300): os.write(3, line)\nprint('done')"
    const { value: run, growthMiB } = await measured(() => runCode(sessionId, code))
    report.add('run_code forges 300 results of 1 MiB on fd 3', `${run.result.length} results kept, answer ${(run.answerBytes / MiB).toFixed(1)} MiB; server grew ${growthMiB} MiB`)
    expect(run.stdout).toEqual(['done\n'])
    const kept = run.result.filter((r: Record<string, unknown>) => 'image/png' in r)
    expect(kept.length).toBeGreaterThan(20)
    expect(kept.length).toBeLessThan(32)
    expect(run.result.at(-1)).toEqual({ 'text/plain': expect.stringMatching(new RegExp(`^…\\[truncated ${300 - kept.length} results \\(\\d+ bytes\\): a run_code call keeps at most 32 MiB of results\\]$`)), isMainResult: false })
    expect(run.answerBytes).toBeLessThan(34 * MiB)
    // 32 MiB of results are kept, formatted and answered; the dropped ones were parsed first and
    // are garbage the collector frees later: about 400 MiB at the peak, whatever the attack's
    // size (unfixed, the server kept all 300 MiB and its copies: over 1.5 GiB).
    expect(growthMiB).toBeLessThan(700)
    await release(sessionId)
  }, 120_000)
})

describe('streamed run_code over the session WebSocket', () => {
  it('streams at most maxOutputBytes (1 MiB) per stream, then the same truncation line as /mcp', async () => {
    const session = await newSession()
    const client = await openWs(session.wsUrl, session.token)
    const id = client.run("import sys\ns = 'x' * (1 << 20)\nfor i in range(100): sys.stdout.write(s); sys.stdout.flush()\nprint('never streamed')", 'python', 60)
    const { value: frames, growthMiB } = await measured(() => client.finished(id, 60_000))
    const stdout = frames.map((f) => f.frame.data).filter((d) => d.eventType === 'stdout').map((d) => d.chunk as string).join('')
    report.add('streamed run_code prints 100 MiB', `${(stdout.length / MiB).toFixed(2)} MiB streamed; server grew ${growthMiB} MiB`)
    expect(frames.at(-1)!.frame.data).toMatchObject({ phase: 'end', status: 'finished' })
    expect(stdout.length).toBeLessThan(MiB + 100)
    expect(stdout).toMatch(/^x{1048576}\n…\[truncated \d+ bytes\]\n$/)
    expect(Number(/truncated (\d+) bytes/.exec(stdout)![1])).toBe(100 * MiB + 'never streamed\n'.length - MiB)
    client.ws.close()
    await release(session.sessionId)
  }, 120_000)

  it('a client that stops reading is closed once 16 MiB wait unsent for 10 s, and its run is cancelled', async () => {
    const session = await newSession()
    const client = await openWs(session.wsUrl, session.token)
    const socket = (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket
    socket.pause() // the client reads nothing from now on
    // 30 results of 1 MiB (under the run's 32 MiB result cap), then output until cancelled.
    const code = "import os, json, time\nline = (json.dumps({'type': 'result', 'isMainResult': False, 'data': {'image/png': 'A' * (1 << 20)}}) + '\\n').encode()\nfor i in range(30): os.write(3, line)\nwhile True: print('tick', flush=True); time.sleep(0.01)"
    const reason = new Promise<string>((resolve) => client.ws.once('close', (_code, why) => resolve(String(why))))
    const started = performance.now()
    const { value: next, growthMiB } = await measured(async () => {
      client.run(code, 'python', 120)
      await new Promise((resolve) => setTimeout(resolve, 1000)) // it reached the kernel first
      // The next run in that kernel waits for the flooding one: it runs once that one is cancelled.
      return runCode(session.sessionId, "print('next')")
    })
    const seconds = (performance.now() - started) / 1000
    socket.resume()
    const closeCode = await Promise.race([client.closed, new Promise((resolve) => setTimeout(() => resolve('still open'), 10_000))])
    report.add('WebSocket client stops reading; its run emits 30 MiB, then prints', `run cancelled, next run after ${seconds.toFixed(1)} s, socket closed (${closeCode} ${await Promise.race([reason, ''])}); server grew ${growthMiB} MiB`)
    expect(next.stdout).toEqual(['next\n'])
    expect(seconds).toBeGreaterThan(9) // a slow link gets 10 s to catch up
    expect(seconds).toBeLessThan(40) // not the flooding run's 120 s timeout
    // The close frame waits behind the unsent frames: a client that reads again within the
    // 2 s grace sees it, else the cut-off connection (1006).
    if (closeCode === 1008) expect(await reason).toMatch(/^client too slow: \d+ MiB unsent; its runs were cancelled$/)
    else expect(closeCode).toBe(1006)
    expect(growthMiB).toBeLessThan(200)
    await release(session.sessionId)
  }, 120_000)

  it('a client that stops reading is closed at once when 64 MiB wait unsent', async () => {
    const local = createAgbLocal()
    const server = await serve(local)
    try {
      const { session, client } = await connect({ local, server })
      // The kernel starts first (1-3 s in a sandbox on a loaded machine), outside the clock.
      await client.finished(client.run('1'))
      ;(client.ws as unknown as { _socket: { pause(): void } })._socket.pause()
      // Three runs of 30 MiB of results each: 90 MiB for a client that reads nothing.
      const code = "import os, json\nline = (json.dumps({'type': 'result', 'isMainResult': False, 'data': {'image/png': 'A' * (1 << 20)}}) + '\\n').encode()\nfor i in range(30): os.write(3, line)"
      const started = performance.now()
      for (let i = 0; i < 3; i++) client.run(code, 'python', 60)
      while (local.openSockets(session.sessionId) && performance.now() - started < 30_000) await new Promise((resolve) => setTimeout(resolve, 100))
      const seconds = (performance.now() - started) / 1000
      report.add('WebSocket client stops reading; 3 runs emit 90 MiB', `socket closed after ${seconds.toFixed(1)} s`)
      expect(local.openSockets(session.sessionId)).toBe(0)
      expect(seconds).toBeLessThan(9.5) // before the 10 s a slow client gets: the 64 MiB bound
    } finally {
      await server.close()
      await local.close()
    }
  }, 60_000)
})

describe('read_multiple_files', () => {
  it('reads one 32 MiB budget per call: the same 31 MiB file listed 8 times is read once', async () => {
    const { sessionId } = await newSession()
    await child.callTool(sessionId, 'shell', { command: "head -c 31M /dev/zero | tr '\\0' a > /home/user/big", timeout_ms: 30_000 })
    const { value: answer, growthMiB } = await measured(() => child.callTool(sessionId, 'read_multiple_files', { paths: Array(8).fill('/home/user/big') }))
    report.add('read_multiple_files of a 31 MiB file x8', `answer ${(answer.text.length / MiB).toFixed(1)} MiB; server grew ${growthMiB} MiB`)
    expect(answer.isError).toBe(false)
    const blocks = answer.text.split('\n---\n')
    expect(blocks).toHaveLength(8)
    expect(blocks[0]).toBe(`/home/user/big: ${'a'.repeat(31 * MiB)}`)
    for (const block of blocks.slice(1)) {
      expect(block).toBe(`/home/user/big: Error - not read: ${31 * MiB} bytes would pass the 32 MiB one read_multiple_files call returns (${31 * MiB} bytes read already); read it in another call`)
    }
    // One 31 MiB file as bytes, text and JSON answer (unfixed: 8 of each, about 1.5 GiB).
    expect(growthMiB).toBeLessThan(400)
    await release(sessionId)
  }, 120_000)
})

describe('get_file_change', () => {
  it('keeps 100 000 baseline entries per session, not one snapshot per directory ever asked about', async () => {
    const { sessionId } = await newSession()
    // 20 nested directories above 30 000 files: each one's snapshot holds all 30 000.
    const dirs = Array.from({ length: 20 }, (_, i) => '/home/user/t/' + Array.from({ length: i + 1 }, (_, j) => `d${j}`).join('/'))
    await child.callTool(sessionId, 'shell', { command: `mkdir -p ${dirs.at(-1)} && cd ${dirs.at(-1)} && python3 -c "[open('f%d' % i, 'w') for i in range(30000)]"`, timeout_ms: 60_000 })
    const before = await retainedHeapMiB()
    for (const dir of dirs) expect((await child.callTool(sessionId, 'get_file_change', { path: dir })).text).toBe('[]')
    const kept = (await retainedHeapMiB()) - before
    report.add('get_file_change on 20 nested directories over 30 000 files', `server keeps ${kept} MiB more heap`)
    expect(kept).toBeLessThan(40) // unfixed: all 600 000 entries, over 100 MiB
    // The newest baselines are kept (a change is reported); the oldest were forgotten (a first call again).
    await child.callTool(sessionId, 'shell', { command: `touch ${dirs.at(-1)}/new`, timeout_ms: 10_000 })
    expect(JSON.parse((await child.callTool(sessionId, 'get_file_change', { path: dirs.at(-1)! })).text)).toEqual([{ eventType: 'create', path: `${dirs.at(-1)}/new`, pathType: 'file' }])
    expect((await child.callTool(sessionId, 'get_file_change', { path: dirs[0]! })).text).toBe('[]')
    await release(sessionId)
  }, 180_000)
})
