// Logging hooks are an opt-in import (`requestHooks`): what they report for each attempt of a
// request, against AGB Local (a real sandbox answering, faults from a misbehaving handler).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, createSession, deleteSession, exec, isAgbError, listSessions, requestHooks, type RequestEvent, type ResponseEvent, type Session } from '../src/index.ts'
import { createAgbLocal, type AgbLocal } from '../server/index.ts'
import { IMAGE } from './helpers/local.ts'

const URL = 'http://agb.local'
let local: AgbLocal
let session: Session
const events: (['request', RequestEvent] | ['response', ResponseEvent])[] = []
const hooks = requestHooks({ onRequest: (e) => events.push(['request', e]), onResponse: (e) => events.push(['response', e]) })

beforeAll(async () => {
  local = createAgbLocal()
  session = await createSession(createClient({ apiKey: local.apiKey, endpoint: URL, fetch: local.fetch }), { imageId: IMAGE })
})
afterAll(async () => {
  await deleteSession(createClient({ apiKey: local.apiKey, endpoint: URL, fetch: local.fetch }), session).catch(() => undefined)
  await local.close()
})

const client = () => createClient({ apiKey: local.apiKey, endpoint: URL, fetch: local.fetch, hooks, retry: { baseDelay: 1 } })

describe('requestHooks', () => {
  it('reports one request and one response per attempt: method, URL without query, status, request id, duration', async () => {
    events.length = 0
    const result = await exec(client(), session, 'echo hi')
    expect(events.map(([kind]) => kind)).toEqual(['request', 'response'])
    expect(events[0]![1]).toEqual({ method: 'POST', url: `${URL}/mcp`, attempt: 1 })
    const response = events[1]![1] as ResponseEvent
    expect(response).toMatchObject({ method: 'POST', url: `${URL}/mcp`, attempt: 1, status: 200, requestId: result.requestId })
    expect(response.durationMs).toBeGreaterThanOrEqual(0)
    expect(response).not.toHaveProperty('error')
  })

  it('reports a retried attempt with its status and the service code, then the attempt that succeeded', async () => {
    local.faults.add({ route: '/sdk/ListSession', kind: 'status', status: 503 })
    events.length = 0
    await listSessions(client(), { maxResults: 1 })
    const responses = events.filter(([kind]) => kind === 'response').map(([, e]) => e as ResponseEvent)
    expect(responses.map((e) => [e.attempt, e.status])).toEqual([
      [1, 503],
      [2, 200],
    ])
    expect(responses[0]!.error).toBeTruthy()
    expect(responses[1]).not.toHaveProperty('error')
    expect(events.filter(([kind]) => kind === 'request').map(([, e]) => e.attempt)).toEqual([1, 2])
  })

  it('reports a failure without a response as status 0 with the error code', async () => {
    events.length = 0
    const broken = createClient({ apiKey: 'akm-hooks', endpoint: URL, fetch: () => Promise.reject(new TypeError('fetch failed')), hooks, retry: false })
    const error = await exec(broken, session, 'echo hi').catch((e: unknown) => e)
    expect(isAgbError(error, 'network')).toBe(true)
    expect(events.map(([kind, e]) => [kind, (e as ResponseEvent).status, (e as ResponseEvent).error])).toEqual([
      ['request', undefined, undefined],
      ['response', 0, 'network'],
    ])
  })

  it('rejects a plain hooks object in createClient, pointing at requestHooks', () => {
    expect(() => createClient({ apiKey: 'k', hooks: { onRequest: () => undefined } as never })).toThrow(/requestHooks/)
  })
})
