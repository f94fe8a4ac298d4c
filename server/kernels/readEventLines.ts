import type { Readable } from 'node:stream'

/**
 * Calls `line` with each `\n`-terminated line of `input` (without its newline) and its length
 * in bytes, holding at most `maxBytes` of one line. The kernel's event pipe is writable by the
 * code it runs (`os.write(3, …)`), so a line without a newline must not grow the server's
 * memory without bound (as `readline`'s buffer does, up to a crash): the moment a line passes
 * `maxBytes`, `overflow` is called once with the bytes seen so far and reading stops (the caller
 * stops the kernel).
 */
export function readEventLines(input: Readable, line: (text: string, bytes: number) => void, overflow: (bytes: number) => void, maxBytes: number): void {
  let parts: Buffer[] = []
  let held = 0
  let stopped = false

  const onData = (chunk: Buffer): void => {
    let start = 0
    while (!stopped && start < chunk.length) {
      const nl = chunk.indexOf(10, start)
      const end = nl < 0 ? chunk.length : nl
      if (held + end - start > maxBytes) {
        stopped = true
        parts = []
        input.off('data', onData)
        input.resume() // keep draining (and discarding) until the kernel is gone
        return overflow(held + end - start)
      }
      if (nl < 0) {
        parts.push(chunk.subarray(start))
        held += chunk.length - start
        return
      }
      const tail = chunk.subarray(start, nl)
      const whole = held ? Buffer.concat([...parts, tail], held + tail.length) : tail
      parts = []
      held = 0
      start = nl + 1
      line(whole.toString('utf8'), whole.length)
    }
  }
  input.on('data', onData)
}
