/**
 * The part of a call's deadline the sandbox gets: it stops the code a margin before the call
 * would time out, so the output produced so far still comes back as a result. The margin is
 * 10 % of the call's `timeout`, at least 0.5 s (or half the timeout below 1 s: the answer
 * must still travel back) and at most 5 s.
 */
export const remoteBudget = (timeout: number): number => Math.max(1, Math.round(timeout - Math.min(5_000, Math.max(timeout / 10, Math.min(500, timeout / 2)))))
