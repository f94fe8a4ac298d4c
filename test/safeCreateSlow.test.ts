// Safe create against a SLOW service: the create request is still being carried out when the
// attempt times out. A lookup right away finds nothing; sending the create again would make a
// second session. AGB Local sits behind a handler that takes 1.2 s before the create reaches
// it (and never answers), so the session appears only well after the attempt was abandoned.
import { afterEach, describe, expect, it } from 'vitest'
import { createClient, createSession, listSessions, type FetchLike } from '../src/index.ts'
import { createAgbLocal, type AgbLocal } from '../server/index.ts'
import { IMAGE } from './helpers/local.ts'

let local: AgbLocal | undefined
afterEach(async () => {
  await local?.close()
  local = undefined
})

/** AGB Local behind a slow front: creates arrive `delayMs` late and their answers never come. */
function slowCreates(target: AgbLocal, delayMs: number): { fetch: FetchLike; creates: () => number } {
  let creates = 0
  const fetch: FetchLike = async (input, init) => {
    const request = new Request(input, init)
    if (new URL(request.url).pathname !== '/mcp/createSession') return target.fetch(request)
    creates++
    // Carried out whatever the client does meanwhile (a copy without the client's signal).
    const copy = new Request(request.url, { method: request.method, headers: request.headers, body: await request.text() })
    setTimeout(() => void target.fetch(copy), delayMs)
    return new Promise<Response>((_, reject) => request.signal.addEventListener('abort', () => reject(request.signal.reason), { once: true }))
  }
  return { fetch, creates: () => creates }
}

describe('createSession against a service slower than the attempt timeout', () => {
  it('waits for the session the timed-out attempt is still creating instead of creating a second one', async () => {
    local = createAgbLocal()
    const front = slowCreates(local, 1_200)
    const client = createClient({ apiKey: local.apiKey, endpoint: 'http://agb.local', fetch: front.fetch })
    const session = await createSession(client, { imageId: IMAGE, timeout: 20_000, retry: { attemptTimeout: 300, baseDelay: 1 } })
    const live: string[] = []
    for await (const s of listSessions(client)) live.push(s.id)
    expect(live).toEqual([session.id])
    expect(front.creates()).toBe(1)
  })
})
