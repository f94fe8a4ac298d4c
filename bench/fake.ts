// The instant handler and the hand-written raw request the SDK is compared with.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/** The `shell` tool's success envelope, answered at once (no process is spawned). */
export const SHELL_OK = JSON.stringify({
  success: true,
  code: 'OK',
  requestId: 'r',
  data: { isError: false, content: [{ type: 'text', text: '{"stdout":"","stderr":"","exit_code":0}' }] },
})

const JSON_HEADERS = { 'content-type': 'application/json' }

/** A `fetch` answering every request with {@link SHELL_OK}, in-process, without reading it. */
export const instantFetch = async (_input: RequestInfo | URL, _init?: RequestInit): Promise<Response> => new Response(SHELL_OK, { status: 200, headers: JSON_HEADERS })

/** A loopback HTTP server that reads each request body and answers {@link SHELL_OK}. */
export async function serveInstant(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(SHELL_OK) })
      res.end(SHELL_OK)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** The `timeout_ms` the SDK's exec sends with its default 60 s timeout (remoteBudget). */
export const SHELL_TIMEOUT_MS = 55_000

/**
 * What a user would write without the SDK: the same POST /mcp request (headers, double-encoded
 * args), the envelope and the tool's JSON text parsed, the exit code returned.
 */
export async function rawExec(fetchFn: typeof fetch, endpoint: string, apiKey: string, sessionId: string, command = 'true'): Promise<number> {
  const response = await fetchFn(`${endpoint}/mcp?autoGenSession=false`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ args: JSON.stringify({ command, timeout_ms: SHELL_TIMEOUT_MS }), sessionId, name: 'shell' }),
  })
  const envelope = JSON.parse(await response.text()) as { success?: boolean; message?: string; data?: unknown }
  if (!response.ok || !envelope.success) throw new Error(`raw exec: HTTP ${response.status} ${envelope.message ?? ''}`)
  const data = (typeof envelope.data === 'string' ? JSON.parse(envelope.data) : envelope.data) as { content: { text: string }[] }
  return (JSON.parse(data.content[0]!.text) as { exit_code: number }).exit_code
}
