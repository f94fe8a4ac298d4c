import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal, serve } from '../../server/index.ts'
import type { Server } from '../../server/index.ts'
import { localClient } from './localClient.ts'

const small = createAgbLocal({ maxBodyBytes: 1024, maxOutputBytes: 1000, recordBodyLimit: 64 })
const api = localClient(small)
const roomy = createAgbLocal()
let server: Server
beforeAll(async () => {
  server = await serve(small)
})
afterAll(async () => {
  await server.close()
  await Promise.all([small.close(), roomy.close()])
})

const CREATE = '/mcp/createSession?imageId=agb-code-space-1'
const auth = (local = small) => ({ authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json' })

function padded(bytes: number): string {
  return JSON.stringify({ labels: '{}', pad: 'x'.repeat(bytes) })
}

describe('request body cap', () => {
  it('answers a body over the cap with 413 and the error envelope', async () => {
    const res = await small.fetch(`http://agb.local${CREATE}`, { method: 'POST', headers: auth(), body: padded(2000) })
    expect(res.status).toBe(413)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(await res.json()).toMatchObject({ success: false, code: 'RequestEntityTooLarge', httpStatusCode: 413, requestId: expect.any(String) })
    expect((await small.fetch(`http://agb.local${CREATE}`, { method: 'POST', headers: auth(), body: padded(900) })).status).toBe(200)
  })

  it('stops reading a streamed body without Content-Length at the cap', async () => {
    let pulled = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++
        controller.enqueue(new TextEncoder().encode('x'.repeat(512)))
        if (pulled > 1000) controller.close()
      },
    })
    const res = await small.fetch(`http://agb.local${CREATE}`, { method: 'POST', headers: auth(), body, duplex: 'half' } as RequestInit)
    expect(res.status).toBe(413)
    expect(pulled).toBeLessThan(10)
  })

  it('answers 413 over loopback too, with or without Content-Length', async () => {
    const declared = await fetch(`${server.url}${CREATE}`, { method: 'POST', headers: auth(), body: padded(5 * 1024 * 1024) })
    expect(declared.status).toBe(413)
    expect((await declared.json()).code).toBe('RequestEntityTooLarge')
    const chunk = new TextEncoder().encode('y'.repeat(64 * 1024))
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ >= 32) return controller.close()
        controller.enqueue(chunk)
      },
    })
    const chunked = await fetch(`${server.url}${CREATE}`, { method: 'POST', headers: auth(), body: stream, duplex: 'half' } as RequestInit)
    expect(chunked.status).toBe(413)
    expect((await fetch(`${server.url}${CREATE}`, { method: 'POST', headers: auth(), body: '{}' })).status).toBe(200)
  })

  it('defaults to 20 MiB', async () => {
    const res = await roomy.fetch(`http://agb.local${CREATE}`, { method: 'POST', headers: auth(roomy), body: padded(20 * 1024 * 1024) })
    expect(res.status).toBe(413)
    expect((await res.json()).message).toContain(String(20 * 1024 * 1024))
  })
})

describe('recorded requests', () => {
  it('keeps at most recordBodyLimit bytes of each body, with a marker', async () => {
    const body = padded(500)
    await small.fetch(`http://agb.local${CREATE}`, { method: 'POST', headers: auth(), body })
    const recorded = small.requests.at(-1)!
    expect(recorded.body).toBe(`${body.slice(0, 64)}…[truncated ${body.length - 64} bytes]`)
  })

  it('keeps 4 KiB by default', async () => {
    const body = padded(10_000)
    await roomy.fetch(`http://agb.local${CREATE}`, { method: 'POST', headers: auth(roomy), body })
    expect(roomy.requests.at(-1)!.body).toBe(`${body.slice(0, 4096)}…[truncated ${body.length - 4096} bytes]`)
  })
})

describe('output cap per tool call', () => {
  it('truncates shell stdout and stderr separately with a marker line', async () => {
    const id = await api.createSession()
    const res = await api.shell(id, "head -c 5000 /dev/zero | tr '\\0' a; head -c 3000 /dev/zero | tr '\\0' b >&2")
    expect(res.stdout).toBe(`${'a'.repeat(1000)}\n…[truncated 4000 bytes]\n`)
    expect(res.stderr).toBe(`${'b'.repeat(1000)}\n…[truncated 2000 bytes]\n`)
    expect(res.exit_code).toBe(0)
  })

  it('truncates run_code output and text results, never inside a UTF-8 character', async () => {
    const id = await api.createSession()
    const run = await api.runCode(id, "import sys\nprint('a' * 3000)\nsys.stdout.flush()\nprint('é' * 1000, file=sys.stderr)\n'z' * 5000")
    expect(run.stdout.join('')).toBe(`${'a'.repeat(1000)}\n…[truncated 2001 bytes]\n`)
    expect(run.stderr.join('')).toBe(`${'é'.repeat(500)}\n…[truncated 1001 bytes]\n`)
    const text: string = run.result[0]['text/plain']
    expect(Buffer.byteLength(text)).toBeLessThan(1100)
    expect(text).toMatch(/…\[truncated \d+ bytes\]\n$/)
    const next = await api.runCode(id, "print('ok')")
    expect(next.stdout).toEqual(['ok\n']) // the cap is per call
  })

  it('keeps 1 MiB per stream by default', async () => {
    const local = localClient(roomy)
    const id = await local.createSession()
    const res = await local.shell(id, "head -c 3000000 /dev/zero | tr '\\0' c")
    expect(res.stdout).toBe(`${'c'.repeat(1024 * 1024)}\n…[truncated ${3_000_000 - 1024 * 1024} bytes]\n`)
  })
})
