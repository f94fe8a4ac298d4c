import { WebSocket as WsWebSocket } from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, createSession, deleteSession, runCode, streamCode, type Client, type Session } from '../../src/index.ts'
import { createAgbLocal, serve } from '../../server/index.ts'
import { findExecutable } from '../../server/sandbox/findExecutable.ts'
import { localClient } from './localClient.ts'

// Java (JShell) and R kernels: one long-lived interpreter per session and language, so
// variables, imports and definitions persist between calls, as in the service's kernels. CI
// installs a headless JDK and R; without them run_code answers "not available"
// (kernelsUnavailable.test.ts).
const HAS_JAVA = Boolean(findExecutable('jshell'))
const HAS_R = Boolean(findExecutable('Rscript'))

const local = createAgbLocal()
const api = localClient(local)
const client: Client = createClient({ apiKey: local.apiKey, endpoint: 'http://agb.local', fetch: local.fetch })
afterAll(() => local.close())

// A JVM starts in ~1 s on an idle machine: bounds allow for a busy one.
const SLOW = 120_000

describe.runIf(HAS_JAVA)('run_code java', () => {
  let session: Session
  beforeAll(async () => {
    session = await createSession(client, { imageId: 'agb-code-space-1' })
  })
  afterAll(() => deleteSession(client, session).catch(() => undefined))
  const java = (code: string) => runCode(client, session, code, { language: 'java', timeout: 90_000 })

  it('keeps variables, imports and methods between calls and returns the last expression', async () => {
    const first = await java('import java.util.*;\nimport java.util.stream.*;\nList<Integer> xs = new ArrayList<>(List.of(3, 1, 2));\nint twice(int x) { return 2 * x; }')
    expect(first.error).toBeUndefined()
    expect(first.results).toEqual([])
    const second = await java('Collections.sort(xs);\nSystem.out.println(xs.stream().map(String::valueOf).collect(Collectors.joining(",")));\ntwice(xs.get(2)) * 7')
    expect(second.error).toBeUndefined()
    expect(second.stdout).toBe('1,2,3\n')
    expect(second.text).toBe('42')
    expect(second.results).toHaveLength(1)
    expect(second.executionCount).toBe((first.executionCount ?? 0) + 1)
  }, SLOW)

  it('leaves nothing of its driver in the sandbox /tmp', async () => {
    const r = await java('java.nio.file.Files.list(java.nio.file.Path.of("/tmp")).filter(p -> p.toString().contains("tmp.")).count()')
    expect(r.text).toBe('0')
  }, SLOW)

  it('runs a snippet that starts with import lines', async () => {
    const r = await java('import java.util.*;\nimport java.time.Duration;\nMap<String, Integer> m = new TreeMap<>();\nm.put("b", 2); m.put("a", 1);\nSystem.out.println(m + " " + Duration.ofSeconds(90));')
    expect(r.error).toBeUndefined()
    expect(r.stdout).toBe('{a=1, b=2} PT1M30S\n')
  }, SLOW)

  it('separates stdout and stderr and keeps a partial line', async () => {
    const r = await java('System.out.print("no newline"); System.err.println("to stderr");')
    expect(r.stdout).toBe('no newline')
    expect(r.stderr).toBe('to stderr\n')
  }, SLOW)

  it('reports an exception as data, with its traceback in stderr; the state survives', async () => {
    await java('int kept = 5;')
    const r = await java('int divide(int a) { return a / 0; }\ndivide(kept)')
    expect(r.success).toBe(false)
    expect(r.error).toMatchObject({ name: 'ArithmeticException', value: '/ by zero' })
    expect(r.stderr).toContain('java.lang.ArithmeticException: / by zero')
    expect(r.stderr).toContain('at divide (')
    expect((await java('kept + 1')).text).toBe('6')
  }, SLOW)

  it('reports a compile error with the line and a caret, and runs nothing after it', async () => {
    const r = await java('System.out.println("before");\nint y = undefinedName + 1;\nSystem.out.println("after");')
    expect(r.stdout).toBe('before\n')
    expect(r.error).toMatchObject({ name: 'CompilationException', value: 'cannot find symbol' })
    expect(r.stderr).toContain('symbol:   variable undefinedName')
    expect(r.stderr).toContain('^')
  }, SLOW)

  it('sizes the heap for the session (half its 2 GiB memory limit): running out is an OutOfMemoryError, the kernel survives', async () => {
    const max = await java('Runtime.getRuntime().maxMemory()')
    expect(Number(max.text)).toBeGreaterThan(512 * 1024 ** 2)
    expect(Number(max.text)).toBeLessThanOrEqual(1024 ** 3)
    const r = await java('long[] huge = new long[300_000_000];')
    expect(r.error).toMatchObject({ name: 'OutOfMemoryError' })
    expect((await java('6 * 7')).text).toBe('42')
  }, SLOW)

  it('treats a class with a main method like the service kernel: declared, then called explicitly', async () => {
    const r = await java('public class Main {\n  public static void main(String[] args) { System.out.println("main ran"); }\n}\nMain.main(new String[0]);')
    expect(r.error).toBeUndefined()
    expect(r.stdout).toBe('main ran\n')
  }, SLOW)
})

describe.runIf(HAS_R)('run_code r', () => {
  let session: Session
  beforeAll(async () => {
    session = await createSession(client, { imageId: 'agb-code-space-1' })
  })
  afterAll(() => deleteSession(client, session).catch(() => undefined))
  const r = (code: string) => runCode(client, session, code, { language: 'r', timeout: 60_000 })

  it('keeps variables, functions and attached packages between calls', async () => {
    const first = await r('library(stats)\nx <- c(3, 1, 2)\nsquare <- function(v) v^2')
    expect(first.error).toBeUndefined()
    expect(first.results).toEqual([])
    const second = await r('cat("sum:", sum(square(x)), "\\n")\nmedian(sort(x)) * 21')
    expect(second.error).toBeUndefined()
    expect(second.stdout).toBe('sum: 14 \n')
    expect(second.text).toBe('[1] 42')
    expect(second.executionCount).toBe((first.executionCount ?? 0) + 1)
  }, SLOW)

  it('prints visible values before the last one to stdout, as the R console does', async () => {
    const res = await r('1:3\ninvisible(99)\ny <- 2\ndata.frame(a = 1:2, b = c("u", "v"))')
    expect(res.stdout).toBe('[1] 1 2 3\n')
    expect(res.text).toBe('  a b\n1 1 u\n2 2 v')
  }, SLOW)

  it('sends messages and warnings to stderr when they happen', async () => {
    const res = await r('message("note")\nf <- function() warning("careful")\nf()\ncat("done\\n")')
    expect(res.error).toBeUndefined()
    expect(res.stderr).toBe('note\nWarning in f() : careful\n')
    expect(res.stdout).toBe('done\n')
  }, SLOW)

  it('reports an error as data with the calls that led to it; the state survives', async () => {
    await r('kept <- 41')
    const res = await r('outer <- function() inner()\ninner <- function() stop("boom")\ncat("before\\n")\nouter()\ncat("after\\n")')
    expect(res.success).toBe(false)
    expect(res.error).toMatchObject({ name: 'simpleError', value: 'boom' })
    expect(res.stdout).toBe('before\n')
    expect(res.stderr).toBe('Error in inner() : boom\nCalls: outer -> inner\n')
    expect((await r('kept + 1')).text).toBe('[1] 42')
  }, SLOW)

  it('reports a syntax error without running any of the cell', async () => {
    const res = await r('cat("never\\n")\nx y')
    expect(res.stdout).toBe('')
    expect(res.error).toMatchObject({ name: 'ParseError', value: '2:3: unexpected symbol' })
  }, SLOW)

  it('keeps UTF-8 text intact both ways', async () => {
    const res = await r('s <- "héllo wörld ✓"\ncat(s, "\\n")\nnchar(s)')
    expect(res.stdout).toBe('héllo wörld ✓ \n')
    expect(res.text).toBe('[1] 13')
  }, SLOW)
})

describe('run_code java and r timeouts and availability', () => {
  it.runIf(HAS_JAVA)('stops a java call at timeout_s like python (TimeoutError), and the next call gets a fresh, working kernel', async () => {
    const id = await api.createSession()
    await api.runCode(id, 'int kept = 1;', 'java', 90)
    const started = Date.now()
    const res = await api.runCode(id, 'while (true) { }', 'java', 3)
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(res.executionError).toBe('TimeoutError: Execution timed out after 3 seconds')
    const after = await api.runCode(id, 'System.out.println("fresh"); 40 + 2', 'java', 90)
    expect(after.stdout).toEqual(['fresh\n'])
    expect(after.result).toEqual([{ 'text/plain': '42', isMainResult: true }])
    const gone = await api.runCode(id, 'kept', 'java', 90)
    expect(gone.executionError).toMatch(/^CompilationException: cannot find symbol/)
  }, 240_000)

  it.runIf(HAS_R)('stops an r call at timeout_s like python, and the next call gets a fresh, working kernel', async () => {
    const id = await api.createSession()
    await api.runCode(id, 'kept <- 1', 'r', 60)
    const res = await api.runCode(id, 'repeat {}', 'r', 2)
    expect(res.executionError).toBe('TimeoutError: Execution timed out after 2 seconds')
    const after = await api.runCode(id, 'exists("kept")', 'r', 60)
    expect(after.result).toEqual([{ 'text/plain': '[1] FALSE', isMainResult: true }])
  }, SLOW)

  it.runIf(HAS_JAVA)('runs one JVM per session: a second call reuses it', async () => {
    const id = await api.createSession()
    const first = await api.runCode(id, 'long pid = ProcessHandle.current().pid(); pid', 'java', 90)
    const second = await api.runCode(id, 'ProcessHandle.current().pid() == pid', 'java', 90)
    expect(first.result[0]['text/plain']).toMatch(/^\d+$/)
    expect(second.result).toEqual([{ 'text/plain': 'true', isMainResult: true }])
  }, SLOW)
})

describe.runIf(HAS_JAVA && HAS_R)('java and r over the session WebSocket', () => {
  // Node 20 has no global WebSocket: the client gets `ws`'s, as a Node 20 user would.
  const webSocket = (globalThis as { WebSocket?: unknown }).WebSocket ? undefined : (WsWebSocket as never)

  it('streams output and shares the kernel with plain run_code calls', async () => {
    const server = await serve(local, { port: 0 })
    try {
      const ws = createClient({ apiKey: local.apiKey, endpoint: server.url, ...(webSocket ? { webSocket } : {}) })
      const session = await createSession(ws, { imageId: 'agb-code-space-1' })
      for (const [language, define, use, expected] of [
        ['java', 'int base = 40;', 'System.out.println("streamed " + (base + 2));', 'streamed 42\n'],
        ['r', 'base <- 40', 'cat("streamed", base + 2, "\\n")', 'streamed 42 \n'],
      ] as const) {
        await runCode(ws, session, define, { language, timeout: 90_000 })
        const events: string[] = []
        for await (const event of streamCode(ws, session, use, { language, timeout: 90_000 })) {
          events.push(event.type === 'stdout' ? event.text : event.type === 'end' ? `end:${event.status}` : event.type)
        }
        expect(events).toEqual([expected, 'end:finished'])
      }
      await deleteSession(ws, session)
    } finally {
      await server.close()
    }
  }, SLOW)
})
