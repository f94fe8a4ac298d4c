import type { Readable } from 'node:stream'

/**
 * Calls `onLine` with each `\n`-terminated line of `input` (without the newline), holding at
 * most `maxBytes` of one line: a longer line is dropped whole and reported to `onOverflow`
 * (unlike `readline`, whose line buffer has no bound: the agent's output can be written by
 * sandboxed code too).
 */
export function readLines(input: Readable, onLine: (line: string) => void, maxBytes: number, onOverflow: (bytes: number) => void): void {
  let parts: Buffer[] = []
  let held = 0
  let dropping = 0 // bytes of an overlong line dropped so far; 0 = keeping
  input.on('data', (chunk: Buffer) => {
    let start = 0
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      if (dropping) {
        onOverflow(dropping + nl - start)
        dropping = 0
      } else {
        const tail = chunk.subarray(start, nl)
        const line = held ? Buffer.concat([...parts, tail], held + tail.length) : tail
        parts = []
        held = 0
        if (line.length > maxBytes) onOverflow(line.length)
        else onLine(line.toString('utf8'))
      }
      start = nl + 1
    }
    const rest = chunk.length - start
    if (!rest) return
    if (dropping) dropping += rest
    else if (held + rest > maxBytes) {
      dropping = held + rest
      parts = []
      held = 0
    } else {
      parts.push(chunk.subarray(start))
      held += rest
    }
  })
}
