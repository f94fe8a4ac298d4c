import type { ServerResponse } from 'node:http'

/**
 * Answer bytes are handed to a connection in slices of this size: Node reports a write done
 * only once its whole chunk has left, so a 32 MiB answer written in one piece would show no
 * progress until its last byte, and a slow but reading client would look stalled. The slices
 * share the chunk's memory (no copy).
 */
const SLICE_BYTES = 256 * 1024

/** Answer bytes written to connections that their clients have not taken yet. */
export interface UnsentAnswers {
  /** Writes `chunk` to `res`, counted until the socket has sent it (then `res.writableNeedDrain` says whether to wait). */
  write(res: ServerResponse, chunk: Uint8Array): void
  /** Stops the progress check (the connections themselves are the server's to close). */
  stop(): void
}

interface Pending {
  unsent: number
  /** When the client last took a slice, or when its unsent bytes last rose from none. */
  progressAt: number
}

/**
 * Bounds the memory that clients which do not read their answers can make AGB Local hold: an
 * answer waiting in the server for its client (a 32 MiB file read, say) stays in memory until
 * the client takes it, so 40 clients that never read held 2.5 GB. A connection whose unsent
 * answer makes no progress for `timeoutMs` is closed, and when more than `maxUnsentBytes` wait
 * over all connections, connections are closed until the total is under the cap again, the
 * one whose client has gone longest without taking a byte first.
 */
export function createUnsentAnswers(timeoutMs: number, maxUnsentBytes: number): UnsentAnswers {
  const pending = new Map<ServerResponse, Pending>()
  let total = 0
  let timer: ReturnType<typeof setInterval> | undefined

  const forget = (res: ServerResponse) => {
    const entry = pending.get(res)
    if (!entry) return
    total -= entry.unsent
    pending.delete(res)
    if (!pending.size && timer) {
      clearInterval(timer)
      timer = undefined
    }
  }
  const check = () => {
    const now = performance.now()
    for (const [res, entry] of pending) {
      if (entry.unsent > 0 && now - entry.progressAt >= timeoutMs) {
        forget(res)
        res.destroy()
      }
    }
  }
  // Over the cap, the client that has gone longest without taking a byte loses its connection
  // first (the most unsent among equals): a client that reads takes bytes all the time, and a
  // fresh answer counts as progress, while it is all unsent the moment it is written (by size
  // alone, the answer of a client that reads would often be the one closed).
  const enforceCap = () => {
    while (total > maxUnsentBytes) {
      let victim: [ServerResponse, Pending] | undefined
      for (const candidate of pending) {
        const [, c] = candidate
        if (c.unsent === 0) continue // closing it frees nothing (an answer waiting for its handler)
        if (!victim || c.progressAt < victim[1].progressAt || (c.progressAt === victim[1].progressAt && c.unsent > victim[1].unsent)) victim = candidate
      }
      if (!victim) return
      forget(victim[0])
      victim[0].destroy()
    }
  }

  return {
    write(res, chunk) {
      let entry = pending.get(res)
      if (!entry) {
        entry = { unsent: 0, progressAt: performance.now() }
        pending.set(res, entry)
        res.once('close', () => forget(res))
        // How often an idle answer is noticed: a quarter of the timeout, at most every second.
        timer ??= setInterval(check, Math.max(50, Math.min(1_000, timeoutMs / 4))).unref()
      }
      if (entry.unsent === 0) entry.progressAt = performance.now()
      for (let at = 0; at < chunk.byteLength; at += SLICE_BYTES) {
        const slice = chunk.subarray(at, at + SLICE_BYTES)
        entry.unsent += slice.byteLength
        total += slice.byteLength
        const counted = entry
        res.write(slice, () => {
          if (pending.get(res) !== counted) return // closed (and uncounted) meanwhile
          counted.unsent -= slice.byteLength
          total -= slice.byteLength
          counted.progressAt = performance.now()
        })
      }
      enforceCap()
    },
    stop() {
      if (timer) clearInterval(timer)
      timer = undefined
    },
  }
}
