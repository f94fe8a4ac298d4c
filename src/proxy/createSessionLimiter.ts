/** Counts live sessions upstream: all of this proxy's (`clientTag` undefined) or one client's. */
export type CountSessions = (clientTag: string | undefined, signal: AbortSignal) => Promise<number>

/** A granted reservation (call `release` once the create finished, whatever its outcome) or a refusal. */
export type Reservation = { ok: true; release: () => void } | { ok: false; message: string }

/** Reserves room for a session before it is created. */
export interface SessionLimiter {
  reserve(clientTag: string, signal: AbortSignal): Promise<Reservation>
}

/**
 * Session limits that hold under concurrency. Counting and then creating is a race (eight
 * concurrent creates all count the same one live session), so each create first takes a
 * reservation: under a lock, it counts the sessions live upstream plus the creates already
 * reserved in this proxy and in flight, and only then reserves. A reservation is released when
 * its create has finished, by which time the new session is itself visible upstream.
 *
 * The upstream count is the truth shared by every copy of the proxy (several Worker isolates,
 * several servers); reservations in flight are known only to this copy, so concurrent copies
 * can together overshoot by their creates in flight.
 *
 * @param limits - `total` for all clients, `perClient` for each; undefined means no limit.
 * @param count - How many sessions are live upstream.
 * @returns The limiter.
 */
export function createSessionLimiter(limits: { total?: number | undefined; perClient?: number | undefined }, count: CountSessions): SessionLimiter {
  let lock: Promise<unknown> = Promise.resolve()
  let pendingTotal = 0
  const pendingByClient = new Map<string, number>()

  const check = async (clientTag: string, signal: AbortSignal): Promise<Reservation> => {
    // Creates in flight are read before counting: one that finishes during the count is then
    // counted twice (safe), never zero times (its release cannot hide it from a stale count).
    const inFlight = pendingTotal
    const inFlightForClient = pendingByClient.get(clientTag) ?? 0
    if (limits.total !== undefined && (await count(undefined, signal)) + inFlight >= limits.total) {
      return { ok: false, message: `this proxy allows at most ${limits.total} live sessions; delete one first` }
    }
    if (limits.perClient !== undefined && (await count(clientTag, signal)) + inFlightForClient >= limits.perClient) {
      return { ok: false, message: `this proxy allows at most ${limits.perClient} live sessions per user; delete one first` }
    }
    pendingTotal++
    pendingByClient.set(clientTag, (pendingByClient.get(clientTag) ?? 0) + 1)
    let released = false
    return {
      ok: true,
      release: () => {
        if (released) return
        released = true
        pendingTotal--
        const left = (pendingByClient.get(clientTag) ?? 1) - 1
        if (left > 0) pendingByClient.set(clientTag, left)
        else pendingByClient.delete(clientTag)
      },
    }
  }

  return {
    reserve(clientTag, signal) {
      if (limits.total === undefined && limits.perClient === undefined) return Promise.resolve({ ok: true, release: () => undefined })
      // One check at a time: the next one starts after this one has counted and reserved.
      const result = lock.then(() => check(clientTag, signal))
      lock = result.catch(() => undefined)
      return result
    },
  }
}
