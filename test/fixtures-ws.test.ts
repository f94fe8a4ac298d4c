import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, WebSocket as WsWebSocket } from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collectCode, createClient, streamCode, type CodeEvent } from '../src/index.ts'
import { loadFixture } from './helpers/replay.ts'

// ws.run-code.stream.json replayed against the SDK: a socket that expects the recorded client
// frame (header included) and answers with the recorded server frames.
interface WsFixture {
  connect: { headers: Record<string, string> }
  frames: { dir: 'client->server' | 'server->client'; json: { invocationId: string; data: Record<string, unknown> } & Record<string, unknown> }[]
  errorFrameExamples: { json: { data: Record<string, unknown> } }[]
  sdkResult: { logs: { stdout: string[]; stderr: string[] }; results: unknown[]; executionCount: number; executionTime: number }
}
const fixture = loadFixture('ws.run-code.stream') as unknown as WsFixture

let url = ''
let server: ReturnType<typeof createServer>
let wss: WebSocketServer
const seen: { headers: Record<string, unknown>; frames: Record<string, unknown>[] }[] = []
let answer: (invocationId: string) => Record<string, unknown>[] = () => []
beforeAll(async () => {
  server = createServer()
  wss = new WebSocketServer({ server })
  wss.on('connection', (socket, req) => {
    const record = { headers: req.headers as Record<string, unknown>, frames: [] as Record<string, unknown>[] }
    seen.push(record)
    socket.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as Record<string, unknown>
      record.frames.push(frame)
      if (frame.type === 'ping') return
      for (const out of answer(frame.invocationId as string)) socket.send(JSON.stringify(out))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`
})
afterAll(async () => {
  for (const socket of wss.clients) socket.terminate()
  await new Promise<void>((r) => server.close(() => r()))
})

const webSocket = (globalThis as { WebSocket?: unknown }).WebSocket ? undefined : (WsWebSocket as never)
const client = createClient({ apiKey: 'akm-xxx', endpoint: 'http://127.0.0.1:9', ...(webSocket ? { webSocket } : {}) })
// A handle as createSession returns it: wsUrl, token and the run_code server from toolList.
const session = () => ({ id: 'new-session-id', wsUrl: url, token: 'token', tools: [{ name: 'run_code', server: 'wuying_codespace' }] })
const recorded = (id: string) => fixture.frames.filter((f) => f.dir === 'server->client').map((f) => ({ ...f.json, invocationId: id }))

describe('fixture replay: ws.run-code.stream', () => {
  it('sends the recorded frame with the token header and assembles the recorded result', async () => {
    answer = recorded
    const sent = fixture.frames.find((f) => f.dir === 'client->server')!.json
    const code = (sent.data.params as { code: string }).code
    const result = await collectCode(streamCode(client, session() as never, code, { timeout: 65_000 }), { onStdout: () => undefined })
    const connection = seen.at(-1)!
    expect(connection.headers['x-access-token']).toBe(fixture.connect.headers['X-Access-Token'])
    expect(connection.headers.authorization).toBeUndefined()
    const frame = connection.frames.find((f) => f.invocationId)!
    expect(frame.invocationId).toMatch(/^[0-9a-f]{32}$/)
    expect({ ...frame, invocationId: sent.invocationId }).toEqual(sent)
    expect(result).toMatchObject({
      success: true,
      logs: fixture.sdkResult.logs,
      results: fixture.sdkResult.results,
      executionCount: fixture.sdkResult.executionCount,
      executionTime: fixture.sdkResult.executionTime,
      requestId: frame.invocationId,
    })
  })

  it('an error event then an end with executionError reports the error once and ends failed', async () => {
    const [errorEvent, , endFailed] = fixture.errorFrameExamples
    answer = (id) => [{ ...errorEvent!.json, invocationId: id }, { ...endFailed!.json, invocationId: id }]
    const events: CodeEvent[] = []
    for await (const e of streamCode(client, session() as never, '1/0')) events.push(e)
    expect(events.filter((e) => e.type === 'error')).toEqual([{ type: 'error', error: { name: 'RuntimeError', value: 'division by zero', traceback: 'traceId=trace-abc' } }])
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'failed' })
  })

  it('a remote failure of the whole call errors the stream with tool_error', async () => {
    const remote = fixture.errorFrameExamples[1]!
    answer = (id) => [{ ...remote.json, invocationId: id }]
    const error = await (async () => {
      for await (const _ of streamCode(client, session() as never, 'x')) void _
    })().catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'AgbError', code: 'tool_error', message: expect.stringContaining('backend failure') })
  })
})
