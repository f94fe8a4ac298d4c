import { isAgbError } from '../errors.ts'

/**
 * Code events as NDJSON bytes, one JSON object per line, for browsers to read over fetch. A
 * failure mid-stream becomes a last `{"type":"failure","code","message"}` line, which the
 * browser's `streamCode` turns back into the same `AgbError`: it never looks like a clean end.
 *
 * @param events - The upstream event stream.
 * @returns The byte stream; cancelling it cancels `events`.
 */
export function toNdjsonStream(events: ReadableStream<unknown>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  const reader = events.getReader()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read()
        if (done) return controller.close()
        controller.enqueue(encoder.encode(`${JSON.stringify(value)}\n`))
      } catch (error) {
        const code = isAgbError(error) ? error.code : 'network'
        const message = error instanceof Error ? error.message : String(error)
        controller.enqueue(encoder.encode(`${JSON.stringify({ type: 'failure', code, message })}\n`))
        controller.close()
      }
    },
    cancel: (reason) => reader.cancel(reason),
  })
}
