import type { AgbLocal } from '../../server/index.ts'

/** Polls until `check` holds; returns false (instead of throwing) when `timeoutMs` passes first. */
export async function eventually(check: () => boolean, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (check()) return true
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** What AGB Local still holds: RUNNING sessions and live sandbox processes. */
export const leftovers = (local: AgbLocal) => ({ sessions: local.liveSessions(), processes: local.sessionProcessCount() })

/**
 * Waits (bounded) until AGB Local reports zero live sessions and zero session processes, and
 * returns what is left at the end: `{ sessions: 0, processes: 0 }` when nothing leaked.
 */
export async function settleLeaks(local: AgbLocal, timeoutMs = 8_000): Promise<{ sessions: number; processes: number }> {
  await eventually(() => local.liveSessions() === 0 && local.sessionProcessCount() === 0, timeoutMs)
  return leftovers(local)
}
