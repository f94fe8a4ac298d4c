/** The body as text, or why it was not read. */
export type CappedBody = { ok: true; text: string } | { ok: false; reason: 'too_large' | 'unreadable' }

/**
 * Reads a request body as text, counting bytes as they arrive and stopping at `maxBytes`:
 * a client can lie in `Content-Length` or send chunked data without one, so only the running
 * count is trusted. A `Content-Length` above the cap is refused before a byte is read. What
 * has been read stays at most `maxBytes` (plus one chunk) in memory.
 *
 * @param request - The incoming request (its body is consumed).
 * @param maxBytes - Largest body accepted.
 * @returns The text, or `too_large` / `unreadable` (the body broke off or was already used).
 */
export async function readCappedBody(request: Request, maxBytes: number): Promise<CappedBody> {
  const declared = request.headers.get('content-length')
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    await request.body?.cancel().catch(() => undefined)
    return { ok: false, reason: 'too_large' }
  }
  if (!request.body) return { ok: true, text: '' }
  let reader: ReadableStreamDefaultReader<Uint8Array>
  try {
    reader = request.body.getReader()
  } catch {
    return { ok: false, reason: 'unreadable' }
  }
  const decoder = new TextDecoder()
  let text = ''
  let total = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.byteLength
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined)
        return { ok: false, reason: 'too_large' }
      }
      text += decoder.decode(value, { stream: true })
    }
  } catch {
    return { ok: false, reason: 'unreadable' }
  }
  return { ok: true, text: text + decoder.decode() }
}
