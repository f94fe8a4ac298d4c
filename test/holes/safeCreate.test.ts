// Safe create, against the one failure that matters: AGB Local CREATES the session and then the
// answer is lost (the `lost-answer` fault: dropped connection, a 5xx, or no answer at all).
// The README promises createSession then returns that same session, and leaves no second one
// behind; an aborted create deletes what it created.
import { afterEach, describe, expect, it } from 'vitest'
import { createSession, deleteSession, isAgbError, listSessions } from '../../src/index.ts'
import { IMAGE, startLocal, TRANSPORTS, type LocalHarness } from '../helpers/local.ts'

let h: LocalHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

/** Ids of every live session AGB Local holds, from its own API. */
async function liveIds(harness: LocalHarness): Promise<string[]> {
  const ids: string[] = []
  for await (const s of listSessions(harness.client)) ids.push(s.id)
  return ids.sort()
}

/** Session ids AGB Local created, in order (from the answers it sent, lost or not). */
function createRequests(harness: LocalHarness): number {
  return harness.local.requests.filter((r) => new URL(r.url).pathname === '/mcp/createSession').length
}

describe.each(TRANSPORTS)('createSession whose answer is lost after the session was created (%s)', (transport) => {
  for (const lostAs of ['drop', 'status'] as const) {
    it(`returns the session that was created and creates no second one (answer lost as ${lostAs})`, async () => {
      h = await startLocal(transport)
      h.local.faults.add({ route: '/mcp/createSession', kind: 'lost-answer', lostAs, status: 503 })
      const session = await createSession(h.client, { imageId: IMAGE, retry: { baseDelay: 1 } })
      expect(h.local.liveSessions()).toBe(1)
      expect(await liveIds(h)).toEqual([session.id])
      // The lookup found it: the create was not simply sent again.
      expect(createRequests(h)).toBe(1)
      await deleteSession(h.client, session)
      expect(h.local.liveSessions()).toBe(0)
    })
  }

  it('returns the created session when the answer never comes and the attempt times out', async () => {
    h = await startLocal(transport)
    h.local.faults.add({ route: '/mcp/createSession', kind: 'lost-answer', lostAs: 'hang' })
    const session = await createSession(h.client, { imageId: IMAGE, timeout: 20_000, retry: { attemptTimeout: 500, baseDelay: 1 } })
    expect(await liveIds(h)).toEqual([session.id])
    expect(createRequests(h)).toBe(1)
  })

  it('deletes the created session when the caller aborts while the answer is lost', async () => {
    h = await startLocal(transport)
    h.local.faults.add({ route: '/mcp/createSession', kind: 'lost-answer', lostAs: 'hang' })
    const controller = new AbortController()
    const pending = createSession(h.client, { imageId: IMAGE, signal: controller.signal })
    // Abort once AGB Local has created the session (and is holding back the answer).
    for (let i = 0; i < 200 && h.local.liveSessions() === 0; i++) await new Promise((r) => setTimeout(r, 25))
    expect(h.local.liveSessions()).toBe(1)
    controller.abort()
    const error = await pending.then(() => undefined, (e: unknown) => e)
    expect(isAgbError(error, 'aborted')).toBe(true)
    // The SDK finds the session by its tag in the background and deletes it.
    for (let i = 0; i < 400 && h.local.liveSessions() > 0; i++) await new Promise((r) => setTimeout(r, 25))
    expect(h.local.liveSessions()).toBe(0)
  })
})
