import { describe, expect, it } from 'vitest'
import * as sdk from '../src/index.ts'
import { createClient, createSession, deleteSession, exec, isAgbError, runCode, type Client } from '../src/index.ts'

// A fetch that records every call: bad input must be rejected before anything is sent.
function recordingClient(): { client: Client; calls: string[] } {
  const calls: string[] = []
  const client = createClient({
    apiKey: 'akm-secret-key',
    fetch: async (input) => {
      calls.push(String(input instanceof Request ? input.url : input))
      return new Response('{}', { status: 500 })
    },
  })
  return { client, calls }
}

async function rejection(promise: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof promise === 'function' ? promise() : promise)
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

describe('createClient', () => {
  it('throws invalid_input naming apiKey when the key is missing', async () => {
    const error = await rejection(() => createClient({} as never))
    expect(isAgbError(error, 'invalid_input')).toBe(true)
    expect((error as Error).message).toMatch(/apiKey/)
  })

  it('throws invalid_input for a blank key', async () => {
    const error = await rejection(() => createClient({ apiKey: '   ' }))
    expect(isAgbError(error, 'invalid_input')).toBe(true)
  })

  it('defaults to the AGB cloud endpoint over https', () => {
    expect(createClient({ apiKey: 'k' }).endpoint).toBe('https://sdk-api.agb.cloud')
  })

  it('adds https:// to a bare host and drops trailing slashes', () => {
    expect(createClient({ apiKey: 'k', endpoint: 'api.example.com//' }).endpoint).toBe('https://api.example.com')
    expect(createClient({ apiKey: 'k', endpoint: 'http://127.0.0.1:8080/' }).endpoint).toBe('http://127.0.0.1:8080')
  })

  it('is frozen and keeps the API key out of JSON and enumeration', () => {
    const client = createClient({ apiKey: 'akm-secret-key' })
    expect(Object.isFrozen(client)).toBe(true)
    expect('apiKey' in client).toBe(false)
    expect(JSON.stringify(client)).not.toContain('akm-secret-key')
    expect(Object.keys(client)).not.toContain('apiKey')
  })

  it('rejects a non-positive timeout', async () => {
    const error = await rejection(() => createClient({ apiKey: 'k', timeout: 0 }))
    expect((error as Error).message).toMatch(/timeout/)
  })
})

describe('input validation happens before any request', () => {
  it('createSession: empty imageId', async () => {
    const { client, calls } = recordingClient()
    const error = await rejection(createSession(client, { imageId: ' ' }))
    expect(isAgbError(error, 'invalid_input')).toBe(true)
    expect((error as Error).message).toMatch(/imageId/)
    expect(calls).toEqual([])
  })

  it('createSession: blank label keys', async () => {
    const { client, calls } = recordingClient()
    const error = await rejection(createSession(client, { imageId: 'img', labels: { ' ': 'x' } }))
    expect((error as Error).message).toMatch(/labels/)
    expect(calls).toEqual([])
  })

  it('runCode: unknown language', async () => {
    const { client, calls } = recordingClient()
    const error = await rejection(runCode(client, 's-1', 'print(1)', { language: 'cobol' as never }))
    expect(isAgbError(error, 'invalid_input')).toBe(true)
    expect((error as Error).message).toMatch(/language/)
    expect(calls).toEqual([])
  })

  it('runCode: empty session id', async () => {
    const { client, calls } = recordingClient()
    const error = await rejection(runCode(client, '', 'print(1)'))
    expect((error as Error).message).toMatch(/session/)
    expect(calls).toEqual([])
  })

  it('exec: non-string env values', async () => {
    const { client, calls } = recordingClient()
    const error = await rejection(exec(client, 's-1', 'env', { env: { N: 1 as unknown as string } }))
    expect((error as Error).message).toMatch(/env/)
    expect(calls).toEqual([])
  })

  it('deleteSession: a bad pollInterval', async () => {
    const { client, calls } = recordingClient()
    const error = await rejection(deleteSession(client, 's-1', { pollInterval: -5 }))
    expect((error as Error).message).toMatch(/pollInterval/)
    expect(calls).toEqual([])
  })
})

describe('transport failures', () => {
  it('a non-JSON 502 page is server_error with a short message and no key', async () => {
    const client = createClient({ apiKey: 'akm-secret-key', fetch: async () => new Response('<html>' + 'x'.repeat(5000) + '</html>', { status: 502 }) })
    const error = await rejection(runCode(client, 's-1', '1'))
    expect(isAgbError(error, 'server_error')).toBe(true)
    expect((error as Error).message.length).toBeLessThan(500)
    expect((error as Error).message).not.toContain('akm-secret-key')
    expect(error).toMatchObject({ status: 502, retryable: true })
  })

  it('a refused connection is network and retryable', async () => {
    const client = createClient({ apiKey: 'k', endpoint: 'http://127.0.0.1:9' })
    const error = await rejection(runCode(client, 's-1', '1'))
    expect(isAgbError(error, 'network')).toBe(true)
    expect(error).toMatchObject({ retryable: true, status: 0 })
  })

  it('a hanging server hits the timeout', async () => {
    const client = createClient({ apiKey: 'k', fetch: (_input, init) => new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason))) })
    const started = Date.now()
    const error = await rejection(exec(client, 's-1', 'true', { timeout: 200 }))
    expect(isAgbError(error, 'timeout')).toBe(true)
    expect(Date.now() - started).toBeLessThan(1_200)
  })

  it('a caller abort is aborted, not timeout', async () => {
    const client = createClient({ apiKey: 'k', fetch: (_input, init) => new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason))) })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 20)
    const error = await rejection(deleteSession(client, 's-1', { signal: controller.signal }))
    expect(isAgbError(error, 'aborted')).toBe(true)
  })
})

describe('the shared options (signal, timeout, retry) of every operation', () => {
  // Operations with no options of their own: their RequestOptions are checked where every
  // operation passes, before anything is sent.
  const ops: [string, (c: Client, o: object) => Promise<unknown>][] = [
    ['getSession', (c, o) => sdk.getSession(c, 's-1', o)],
    ['getSessionStatus', (c, o) => sdk.getSessionStatus(c, 's-1', o)],
    ['keepAlive', (c, o) => sdk.keepAlive(c, 's-1', o)],
    ['setLabels', (c, o) => sdk.setLabels(c, 's-1', { a: 'b' }, o)],
    ['getLabels', (c, o) => sdk.getLabels(c, 's-1', o)],
    ['listTools', (c, o) => sdk.listTools(c, 'agb-code-space-1', o)],
    ['sessionInfo', (c, o) => sdk.sessionInfo(c, 's-1', o)],
    ['getMetrics', (c, o) => sdk.getMetrics(c, 's-1', o)],
    ['stat', (c, o) => sdk.stat(c, 's-1', '/tmp', o)],
    ['uploadOss', (c, o) => sdk.uploadOss(c, 's-1', { bucket: 'b', object: 'o', path: '/p' }, o)],
    ['callTool', (c, o) => sdk.callTool(c, 's-1', 'shell', {}, o)],
  ]
  for (const [name, run] of ops) {
    it(`${name}: a bad timeout or signal is invalid_input and nothing is sent`, async () => {
      const { client, calls } = recordingClient()
      for (const bad of [{ timeout: -1 }, { timeout: 1.5 }, { timeout: '10' }, { signal: 'stop' }, { retry: 3 }]) {
        const error = await rejection(run(client, bad))
        expect(isAgbError(error, 'invalid_input'), `${name} ${JSON.stringify(bad)}: ${String(error)}`).toBe(true)
        expect((error as Error).message).toMatch(/^Invalid options\.(timeout|signal|retry)/)
      }
      expect(calls).toEqual([])
    })
  }
})
