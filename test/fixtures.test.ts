import { describe, expect, it } from 'vitest'
import { createClient, createSession, deleteSession, exec, isAgbError, runCode } from '../src/index.ts'
import { loadFixture, replay } from './helpers/replay.ts'

// Each fixture is a request/response pair taken from the official SDK's tests: the SDK must
// send exactly the recorded request and read the recorded answer.
function clientFor(name: string) {
  const fixture = loadFixture(name)
  const server = replay(fixture)
  const client = createClient({ apiKey: 'akm-xxx', fetch: server.fetch })
  return { client, fixture, done: server.done }
}

describe('fixture replay: sessions', () => {
  it('create-session.ok: sends labels and timeout, reads the session', async () => {
    const { client, fixture, done } = clientFor('create-session.ok')
    const session = await createSession(client, { imageId: 'agb-code-space-1', labels: { env: 'test' }, idleReleaseTimeout: 300 })
    done()
    const want = fixture.sdkResult!.session as Record<string, string>
    expect(session).toMatchObject({ id: want.sessionId, resourceUrl: want.resourceUrl, linkUrl: want.linkUrl, wsUrl: want.wsUrl, imageId: want.imageId })
    expect(session.token).toBe(want.token)
    expect(session.tools.map((t) => t.name)).toEqual(['run_code', 'execute_command', 'read_file'])
    expect(session.tools[0]!.server).toBe('wuying_codespace')
  })

  it('create-session.ok: keeps the session token out of JSON', async () => {
    const { client } = clientFor('create-session.ok')
    const session = await createSession(client, { imageId: 'agb-code-space-1', labels: { env: 'test' }, idleReleaseTimeout: 300 })
    expect(JSON.stringify(session)).not.toContain('"token"')
  })

  it('create-session.fail: a soft failure throws api_error with errMsg', async () => {
    const { client, done } = clientFor('create-session.fail')
    const error = await createSession(client, { imageId: 'agb-code-space-1' }).catch((e: unknown) => e)
    done()
    expect(isAgbError(error, 'api_error')).toBe(true)
    expect((error as Error).message).toContain('Session creation failed')
    expect((error as { requestId: string }).requestId).toBe('failure-request-id')
  })

  it('auth-failure: AccessDenied is unauthorized and never shows the key', async () => {
    const fixture = loadFixture('auth-failure')
    const server = replay(fixture, { apiKey: 'akm-invalid' })
    // The fixture sends no body and no sdkStats: it is the bare create call.
    fixture.exchanges[0]!.request.query = { ...fixture.exchanges[0]!.request.query, sdkStats: '{"source":"","sdk_language":"","sdk_version":"","is_release":true}' }
    const client = createClient({ apiKey: 'akm-invalid', fetch: server.fetch })
    const error = await createSession(client, { imageId: 'agb-code-space-1' }).catch((e: unknown) => e)
    expect(isAgbError(error, 'unauthorized')).toBe(true)
    expect((error as Error).message).toContain('access denied')
    expect((error as Error).message).not.toContain('akm-invalid')
    expect(error).toMatchObject({ status: 403, apiCode: 'AccessDenied', requestId: 'rid2' })
  })

  it('release-session.async.ok: releases, then polls until FINISH', async () => {
    const { client, fixture, done } = clientFor('release-session.async.ok')
    const result = await deleteSession(client, 'new-session-id', { pollInterval: 1 })
    done()
    expect(result).toEqual({ requestId: fixture.sdkResult!.requestId, confirmed: true })
  })

  it('release-session.async.poll-not-found: reads the nested PascalCase envelope, not-found means deleted', async () => {
    const { client, done } = clientFor('release-session.async.poll-not-found')
    const result = await deleteSession(client, 'new-session-id', { pollInterval: 1 })
    done()
    expect(result).toEqual({ requestId: 'req-del-2', confirmed: true })
  })
})

describe('fixture replay: run_code', () => {
  it('call-tool.run-code.ok: double-encoded args, parsed current format', async () => {
    const { client, done } = clientFor('call-tool.run-code.ok')
    const result = await runCode(client, 'new-session-id', "print('Hello, World!')", { language: 'python' })
    done()
    expect(result).toMatchObject({ success: true, text: 'Hello, World!', requestId: 'req-123', executionCount: 1, executionTime: 0.5 })
    expect(result.logs).toEqual({ stdout: ['Hello, World!'], stderr: [] })
    expect(result.results).toEqual([{ text: 'Hello, World!', isMainResult: true }])
  })

  it('call-tool.run-code.exception: an exception is data, not a throw', async () => {
    const { client, done } = clientFor('call-tool.run-code.exception')
    const result = await runCode(client, 'new-session-id', '1/0', { language: 'PY' })
    done()
    expect(result.success).toBe(false)
    expect(result.error).toMatchObject({ name: 'ExecutionError', value: 'DivisionByZeroError' })
    expect(result.stderr).toContain('Division by zero')
  })

  it('call-tool.run-code.rich: every MIME kind maps to its field', async () => {
    const { client, fixture, done } = clientFor('call-tool.run-code.rich')
    const result = await runCode(client, 'new-session-id', 'display(obj)')
    done()
    expect(result.results).toEqual(fixture.sdkResult!.results)
    expect(result.logs).toEqual(fixture.sdkResult!.logs)
  })

  it('call-tool.session-not-found: a released session is session_not_found', async () => {
    const { client, done } = clientFor('call-tool.session-not-found')
    const error = await runCode(client, 'deleted-session-id', "print('Hello from deleted session')").catch((e: unknown) => e)
    done()
    expect(isAgbError(error, 'session_not_found')).toBe(true)
    expect(error).toMatchObject({ requestId: 'req-789', apiCode: 'InvalidSession.NotFound' })
  })
})

describe('fixture replay: shell', () => {
  it('call-tool.shell.ok: cwd and envs are sent, JSON result parsed', async () => {
    const { client, done } = clientFor('call-tool.shell.ok')
    const result = await exec(client, 'new-session-id', "echo 'Hello World'", { timeout: 2000, cwd: '/tmp', env: { TEST_VAR: 'test_value' } })
    done()
    expect(result).toEqual({ exitCode: 0, stdout: 'Hello World', stderr: '', requestId: 'req-json-1', traceId: 'trace-json-123' })
  })

  it('call-tool.shell.nonzero-exit: isError with an exit code is returned as data', async () => {
    const { client, fixture, done } = clientFor('call-tool.shell.nonzero-exit')
    const result = await exec(client, 'new-session-id', 'nonexistent_command', { timeout: 2000 })
    done()
    expect(result).toMatchObject({ exitCode: 127, stderr: 'Command not found', traceId: fixture.sdkResult!.traceId })
  })

  it('call-tool.shell.nonzero-exit.ok-envelope: a non-zero exit without isError is data too', async () => {
    const { client, done } = clientFor('call-tool.shell.nonzero-exit.ok-envelope')
    const result = await exec(client, 'new-session-id', 'cat file.txt', { timeout: 2000 })
    done()
    expect(result).toMatchObject({ exitCode: 2, stderr: 'cat: file.txt: No such file or directory', requestId: 'req-json-2' })
  })
})
