import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Readable } from 'node:stream'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import type { Storage } from './storageFor.ts'

/** An outgoing request of an OSS tool. */
export interface OutboundRequest {
  method: string
  url: URL
  headers: Record<string, string>
  /** Streamed; send `content-length` in `headers` with it. */
  body?: Readable
}

/** Its answer; `body` must be consumed or destroyed. */
export interface OutboundResponse {
  status: number
  headers: Record<string, string>
  body: Readable
}

const IDLE_TIMEOUT_MS = 60_000

/**
 * Sends a request for the OSS tools. Requests to AGB Local's own origins (the internal origin
 * and every origin clients reached it on) go straight into its handler in process, so the
 * embedded store works when AGB Local is only an injected `fetch`; others go out over
 * node:http(s), refused when sandboxes have no network. Bodies stream both ways.
 * @throws Error on transport failures (and after 60 s without progress).
 */
export async function sendRequest(s: Storage, req: OutboundRequest): Promise<OutboundResponse> {
  const { url } = req
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported URL scheme: ${url.protocol}`)
  if (s.handler && s.selfOrigins.has(url.origin)) {
    const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers: req.headers }
    if (req.body) {
      init.body = Readable.toWeb(req.body) as unknown as ReadableStream<Uint8Array>
      init.duplex = 'half'
    }
    const res = await s.handler(new Request(url, init))
    return {
      status: res.status,
      headers: Object.fromEntries(res.headers),
      body: res.body ? Readable.fromWeb(res.body as unknown as NodeReadableStream) : Readable.from([]),
    }
  }
  if (!s.config.network) throw new Error(`${url.origin} is unreachable: AGB Local runs sandboxes without network`)
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const out = send(url, { method: req.method, headers: req.headers }, (res) => {
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v
      resolve({ status: res.statusCode ?? 0, headers, body: res })
    })
    out.setTimeout(IDLE_TIMEOUT_MS, () => out.destroy(new Error(`${req.method} ${url.origin}${url.pathname}: no progress for ${IDLE_TIMEOUT_MS / 1000} s`)))
    out.once('error', reject)
    if (!req.body) return void out.end()
    req.body.once('error', (e) => out.destroy(e))
    req.body.pipe(out)
  })
}

/** Reads at most `limit` bytes of a body as text and drops the rest. */
export async function readText(body: Readable, limit = 8192): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (size < limit) chunks.push(chunk)
    size += chunk.length
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8')
}
