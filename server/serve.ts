import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import type { Duplex } from 'node:stream'
import { isDroppedConnection } from './faults/droppedConnection.ts'
import type { AgbLocal } from './types.ts'

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Default 0: an ephemeral port. */
  port?: number
  /** Default `127.0.0.1`: AGB Local runs code for whoever can reach it, keep it local. */
  host?: string
}

/** A listening AGB Local. */
export interface Server {
  /** `http://<host>:<port>`, the endpoint to configure in a client. */
  url: string
  port: number
  /** Stops listening and drops open connections, WebSockets included (does not close the AgbLocal). */
  close(): Promise<void>
}

function toRequest(req: IncomingMessage, origin: string, signal: AbortSignal): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
  const init: RequestInit & { duplex?: 'half' } = { method: req.method ?? 'GET', headers, signal }
  if (hasBody) {
    // Streamed, not buffered: large presigned uploads (phase 2) go straight through.
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>
    init.duplex = 'half'
  }
  return new Request(new URL(req.url ?? '/', origin), init)
}

async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length) headers['set-cookie'] = cookies
  if (response.statusText) res.writeHead(response.status, response.statusText, headers)
  else res.writeHead(response.status, headers) // Node fills in the standard reason phrase
  if (!response.body) return void res.end()
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (res.destroyed) break // client gone: leaving the loop cancels the body stream
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done)
          res.off('close', done)
          resolve()
        }
        res.once('drain', done)
        res.once('close', done)
      })
    }
  }
  res.end()
}

/**
 * Serves an AgbLocal over node:http (127.0.0.1, ephemeral port by default), streaming request
 * and response bodies. WebSocket upgrades (session `wsUrl`) go to `local.handleUpgrade`. A
 * handler rejecting with an injected `drop` fault destroys the connection without an answer.
 * @example
 * const server = await serve(createAgbLocal(), { port: 0 })
 * console.log(server.url)
 */
export async function serve(local: AgbLocal, opts: ServeOptions = {}): Promise<Server> {
  const host = opts.host ?? '127.0.0.1'
  const server = createServer((req, res) => {
    const abort = new AbortController()
    res.once('close', () => {
      if (!res.writableFinished) abort.abort() // client went away mid-request
    })
    const origin = `http://${req.headers.host ?? `${host}:${(server.address() as AddressInfo).port}`}`
    Promise.resolve()
      .then(() => local.handler(toRequest(req, origin, abort.signal)))
      .then((response) => writeResponse(res, response))
      .catch((e: unknown) => {
        if (isDroppedConnection(e)) return void req.socket.destroy() // injected 'drop' fault
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ success: false, code: 'InternalError', message: String((e as Error)?.message ?? e) }))
        } else res.destroy()
      })
  })
  // Upgraded connections leave the HTTP server's bookkeeping: close() drops them itself.
  const upgraded = new Set<Duplex>()
  server.on('upgrade', (req, socket, head) => {
    upgraded.add(socket)
    socket.once('close', () => upgraded.delete(socket))
    if (local.handleUpgrade) return local.handleUpgrade(req, socket, head)
    socket.end('HTTP/1.1 501 Not Implemented\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const shownHost = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
        for (const socket of upgraded) socket.destroy()
      }),
  }
}
