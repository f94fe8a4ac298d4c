const EMPTY = new Uint8Array(0)

/** What {@link readBody} answers for a body over its limit. */
export const TOO_LARGE = Symbol('too large')

/**
 * Reads the whole body, or stops at `limit` bytes (a declared Content-Length is checked first),
 * so an oversized body is never held in full.
 * @returns the bytes (empty when there is no body), or {@link TOO_LARGE}
 */
export async function readBody(req: Request, limit: number): Promise<Uint8Array | typeof TOO_LARGE> {
  const declared = Number(req.headers.get('content-length') ?? NaN)
  if (declared > limit) return TOO_LARGE
  if (!req.body) return EMPTY
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = req.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.length
    if (size > limit) {
      // Cancel without waiting: a cancel of one branch of a tee'd body (the console keeps a
      // clone) settles only once the other branch is cancelled too, after this answer.
      void reader.cancel().catch(() => {})
      return TOO_LARGE
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0]!
  const all = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    all.set(c, at)
    at += c.length
  }
  return all
}
