import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'

export const FIXTURES_DIR = join(import.meta.dirname, '../fixtures/agb-api')

export interface Fixture {
  case: string
  exchanges: {
    request: { method: string; path: string | null; url: string; query?: Record<string, string>; headers?: Record<string, string>; body?: unknown }
    response: { status: number; headers?: Record<string, string>; json?: unknown }
  }[]
  sdkResult?: Record<string, unknown>
}

export function loadFixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, `${name}.json`), 'utf8')) as Fixture
}

export const fixtureNames = () => readdirSync(FIXTURES_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5))

// Fields that travel as JSON inside a string: compare them decoded, so key order and
// spacing (Python vs TS formatting) do not matter.
const JSON_STRING_FIELDS = new Set(['args', 'labels', 'Labels', 'sdkStats', 'contextTypes', 'policy'])

function decodeFields(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k, JSON_STRING_FIELDS.has(k) && typeof v === 'string' ? JSON.parse(v) : v]),
  )
}

/**
 * A fetch that answers a fixture's exchanges in order, asserting that each request the SDK
 * sends matches the recorded one (method, path, query, body, auth headers).
 */
export function replay(fixture: Fixture, options: { apiKey?: string } = {}) {
  let i = 0
  const fetch = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    const exchange = fixture.exchanges[i++]
    if (!exchange) throw new Error(`${fixture.case}: unexpected extra request ${request.method} ${request.url}`)
    const want = exchange.request
    const url = new URL(request.url)
    expect(request.method).toBe(want.method)
    if (want.path !== null) expect(url.pathname).toBe(want.path)
    const query = Object.fromEntries(url.searchParams)
    const wantQuery = { ...want.query }
    // sdkStats is telemetry: ours names this SDK, the recorded one names the official SDK.
    if (wantQuery.sdkStats) {
      expect(Object.keys(JSON.parse(query.sdkStats ?? '{}')).sort()).toEqual(Object.keys(JSON.parse(wantQuery.sdkStats)).sort())
      delete wantQuery.sdkStats
      delete query.sdkStats
    }
    expect(query).toEqual(wantQuery)
    const auth = want.headers?.authorization
    if (auth) expect(request.headers.get('authorization')).toBe(auth.replace('akm-xxx', options.apiKey ?? 'akm-xxx'))
    else expect(request.headers.get('authorization')).toBeNull()
    if (want.body !== undefined) {
      const body = JSON.parse((await request.text()) || '{}') as Record<string, unknown>
      expect(decodeFields(body)).toEqual(decodeFields(want.body as Record<string, unknown>))
    }
    const headers = new Headers({ 'content-type': 'application/json', ...exchange.response.headers })
    return new Response(exchange.response.json === undefined ? null : JSON.stringify(exchange.response.json), {
      status: exchange.response.status,
      headers,
    })
  }
  return { fetch, done: () => expect(i, `${fixture.case}: exchanges used`).toBe(fixture.exchanges.length) }
}
