import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { findExecutable } from '../../server/sandbox/findExecutable.ts'
import { localClient } from './localClient.ts'
import { createClient, isAgbError, runCode } from '../../src/index.ts'

const local = createAgbLocal()
const api = localClient(local)
afterAll(() => local.close())

describe('run_code python', () => {
  it('keeps state between calls and returns the last expression as text/plain', async () => {
    const id = await api.createSession()
    const first = await api.runCode(id, 'x = 21')
    expect(first).toMatchObject({ result: [], stdout: [], stderr: [], execution_count: 1 })
    const second = await api.runCode(id, 'print("hello")\nx * 2')
    expect(second.result).toEqual([{ 'text/plain': '42', isMainResult: true }])
    expect(second.stdout).toEqual(['hello\n'])
    expect(second.execution_count).toBe(2)
    expect(typeof second.execution_time).toBe('number')
    expect(second).not.toHaveProperty('executionError')
  })

  it('reports an exception as executionError with the traceback in stderr, not as a tool error', async () => {
    const id = await api.createSession()
    const res = await api.callTool(id, 'run_code', { code: '1/0', language: 'python', timeout_s: 10 })
    expect(res.json.success).toBe(true)
    expect(res.isError).toBe(false)
    expect(res.doc!.executionError).toBe('ZeroDivisionError: division by zero')
    expect(res.doc!.stderr.join('')).toContain('Traceback')
  })

  it('captures output of subprocesses', async () => {
    const id = await api.createSession()
    const res = await api.runCode(id, 'import subprocess\nsubprocess.run(["echo", "from-child"])\nNone')
    expect(res.stdout.join('')).toContain('from-child')
  })

  it('enforces timeout_s by killing the kernel; the next call gets a fresh one', async () => {
    const id = await api.createSession()
    await api.runCode(id, 'kept = 1')
    const res = await api.runCode(id, 'import time\ntime.sleep(30)', 'python', 1)
    expect(res.executionError).toMatch(/^TimeoutError/)
    const after = await api.runCode(id, "'kept' in globals()")
    expect(after.result[0]['text/plain']).toBe('False')
    expect(after.execution_count).toBe(3)
  })
})

describe('run_code and session release', () => {
  it('ends a run in progress when its session is released, instead of at its timeout', async () => {
    const id = await api.createSession()
    await api.runCode(id, 'started = True')
    const started = Date.now()
    const running = api.runCode(id, 'import time\ntime.sleep(120)', 'python', 120)
    await new Promise((r) => setTimeout(r, 1000))
    await api.post('/mcp/releaseSession', { sessionId: id })
    const res = await running
    expect(Date.now() - started).toBeLessThan(60_000)
    expect(res.executionError).toBe('KernelDied: python kernel was shut down')
  }, 90_000)
})

describe('run_code javascript', () => {
  it('keeps state between calls and returns the completion value', async () => {
    const id = await api.createSession()
    await api.runCode(id, 'let y = 20; globalThis.z = 1', 'javascript')
    const res = await api.runCode(id, 'console.log("js", {a: 1})\ny + 22', 'javascript')
    expect(res.result).toEqual([{ 'text/plain': '42', isMainResult: true }])
    expect(res.stdout).toEqual(['js { a: 1 }\n'])
    expect(res.execution_count).toBe(2)
  })

  it('awaits top-level await and reports thrown errors as executionError', async () => {
    const id = await api.createSession()
    const awaited = await api.runCode(id, 'const v = await Promise.resolve(6)\nv * 7', 'javascript')
    expect(awaited.result[0]['text/plain']).toBe('42')
    const thrown = await api.runCode(id, 'null.foo', 'javascript')
    expect(thrown.executionError).toMatch(/^TypeError: Cannot read properties of null/)
  })
})

describe('run_code other languages', () => {
  it.runIf(findExecutable('jshell'))('runs java in a kernel when a JDK is installed', async () => {
    const id = await api.createSession()
    const res = await api.runCode(id, 'System.out.println("java " + (6 * 7));', 'java', 60)
    expect(res.stdout.join('')).toBe('java 42\n')
  })

  it.runIf(!findExecutable('Rscript'))('says r is not available when Rscript is missing', async () => {
    const id = await api.createSession()
    const res = await api.callTool(id, 'run_code', { code: 'print(1)', language: 'r', timeout_s: 10 })
    expect(res.isError).toBe(true)
    expect(res.text).toContain('not available')
  })

  it('rejects empty code as a tool error and counts no execution', async () => {
    const id = await api.createSession()
    const res = await api.callTool(id, 'run_code', { code: '', language: 'python', timeout_s: 10 })
    expect(res.json.success).toBe(true)
    expect(res.isError).toBe(true)
    expect(res.text).toBe('Error: code must not be empty')
    expect((await api.runCode(id, '1')).execution_count).toBe(1)
  })

  it('makes the SDK throw tool_error for empty code, with the reason', async () => {
    const client = createClient({ apiKey: local.apiKey, endpoint: 'http://agb.local', fetch: local.fetch })
    const id = await api.createSession()
    const error = await runCode(client, id, '').then(
      () => null,
      (e: unknown) => e,
    )
    expect(isAgbError(error, 'tool_error')).toBe(true)
    expect((error as Error).message).toContain('code must not be empty')
  })

  it('runs code of only blanks as an empty cell', async () => {
    const id = await api.createSession()
    expect(await api.runCode(id, '  \n')).toMatchObject({ result: [], stdout: [], stderr: [], execution_count: 1 })
  })

  it('rejects an unknown language as a tool error', async () => {
    const id = await api.createSession()
    const res = await api.callTool(id, 'run_code', { code: 'puts 1', language: 'ruby', timeout_s: 10 })
    expect(res.isError).toBe(true)
  })
})
