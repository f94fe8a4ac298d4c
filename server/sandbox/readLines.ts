import type { Readable } from 'node:stream'

/** What {@link readLines} calls. */
export interface LineHandlers {
  /** One line (without its newline); returns how many raw bytes follow it (0 or nothing: none). */
  line(line: string): number | void
  /** The raw bytes announced by the previous line. */
  raw(bytes: Buffer): void
  /** A line or raw block longer than the bound was dropped whole. */
  overflow(bytes: number): void
}

/**
 * Splits `input` into `\n`-terminated lines, each optionally followed by a block of raw bytes
 * whose length the line's handler returns, holding at most `maxBytes` of one line or block: a
 * longer one is dropped whole and reported (unlike `readline`, whose line buffer has no bound:
 * the agent's output can be written by sandboxed code too).
 */
export function readLines(input: Readable, handlers: LineHandlers, maxBytes: number): void {
  let parts: Buffer[] = []
  let held = 0
  let dropping = 0 // bytes of an overlong line dropped so far; 0 = keeping
  let rawLeft = 0 // raw bytes still expected
  let rawKeep = true // false: an overlong raw block, skipped

  const take = (n: number): Buffer => {
    const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts, held)
    parts = []
    held = 0
    return all.subarray(0, n)
  }

  input.on('data', (chunk: Buffer) => {
    let start = 0
    while (start < chunk.length) {
      if (rawLeft) {
        const n = Math.min(rawLeft, chunk.length - start)
        if (rawKeep) {
          parts.push(chunk.subarray(start, start + n))
          held += n
        }
        rawLeft -= n
        start += n
        if (!rawLeft && rawKeep) handlers.raw(take(held))
        continue
      }
      const nl = chunk.indexOf(10, start)
      if (nl < 0) {
        const rest = chunk.length - start
        if (dropping) dropping += rest
        else if (held + rest > maxBytes) {
          dropping = held + rest
          parts = []
          held = 0
        } else {
          parts.push(chunk.subarray(start))
          held += rest
        }
        return
      }
      if (dropping) {
        handlers.overflow(dropping + nl - start)
        dropping = 0
        start = nl + 1
        continue
      }
      const tail = chunk.subarray(start, nl)
      const line = held ? Buffer.concat([...parts, tail], held + tail.length) : tail
      parts = []
      held = 0
      start = nl + 1
      if (line.length > maxBytes) {
        handlers.overflow(line.length)
        continue
      }
      const raw = handlers.line(line.toString('utf8'))
      if (typeof raw === 'number' && raw > 0) {
        rawLeft = raw
        rawKeep = raw <= maxBytes
        if (!rawKeep) handlers.overflow(raw)
      }
    }
  })
}
