import type { IncomingMessage } from 'node:http'

/** The error a body stream fails with when its sender pauses longer than allowed. */
export class BodyStalledError extends Error {
  override readonly name = 'BodyStalledError'
}

/**
 * The body of a node:http request as a web `ReadableStream` that reads nothing until its
 * consumer asks (high-water mark 0): bytes stay in the socket (TCP flow control holds the
 * sender back) until a route that passed authentication reads them, so an unauthenticated or
 * oversized body costs no memory. A read waiting longer than `idleMs` for the next bytes (a
 * slow or stalled sender) fails with {@link BodyStalledError} after calling `onStall`; the
 * wait only counts while the route is reading, so a slow consumer (disk) is not the sender's
 * fault. Cancelling the stream leaves the rest unread: the server closes such connections.
 * @example
 * new Request(url, { method: 'POST', body: requestBody(req, 30_000, stall), duplex: 'half' })
 */
export function requestBody(req: IncomingMessage, idleMs: number, onStall: () => void): ReadableStream<Uint8Array> {
  // Not `return()`ed on cancel: that would destroy the socket before the answer is written.
  const chunks = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let timer: NodeJS.Timeout | undefined
        let settled = false
        const stalled = new Promise<never>((_, reject) => {
          // The verdict waits one turn of the event loop: after the loop was busy past the
          // timeout, bytes already waiting in the socket are read first, not taken for a stall.
          timer = setTimeout(() => setImmediate(() => {
            if (settled) return
            onStall()
            reject(new BodyStalledError(`request body stalled: no bytes for ${idleMs / 1000} s`))
          }), idleMs)
        })
        try {
          const next = await Promise.race([chunks.next(), stalled])
          if (next.done) controller.close()
          else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength))
        } finally {
          settled = true
          clearTimeout(timer)
        }
      },
    },
    { highWaterMark: 0 },
  )
}
