import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
// The packages ofetch ships with, by path: the bare names resolve to our replacements here.
import * as ufo from '../node_modules/ufo/dist/index.mjs'
import realDestr from '../node_modules/destr/dist/index.mjs'
import { withBase, withQuery } from '../scripts/vendor/ufo.mjs'
import destr from '../scripts/vendor/destr.mjs'

/** What a server reads from a URL: path and decoded query pairs. */
const read = (url: string) => {
  const u = new URL(url, 'http://host')
  return { path: u.pathname, query: [...u.searchParams.entries()].sort(), hash: u.hash }
}

const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(undefined), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string()))
// Parameter names are identifiers in this API (ufo mangles names with leading spaces).
const key = fc.stringMatching(/^[A-Za-z_][\w.-]{0,8}$/)

describe('the ufo/destr replacements bundled with ofetch', () => {
  it('withQuery: a server reads the same path and parameters as with ufo', () => {
    fc.assert(
      fc.property(fc.constantFrom('/mcp', 'https://h.example/mcp', '/a?x=1', '/a?x=1#frag', 'http://127.0.0.1:9/p?sdk=a%20b'), fc.dictionary(key, value), (url, query) => {
        expect(read(withQuery(url, query))).toEqual(read(ufo.withQuery(url, query)))
      }),
      { numRuns: 300 },
    )
  })

  it('withQuery: the real request of createSession', () => {
    const stats = JSON.stringify({ source: 'sdk', sdk_language: 'typescript', sdk_version: '0.1.0', is_release: true })
    const url = withQuery('https://sdk-api.agb.cloud/mcp/createSession', { imageId: 'agb-code-space-1', sdkStats: stats, skip: undefined })
    expect(new URL(url).searchParams.get('sdkStats')).toBe(stats)
    expect(url).not.toContain('skip')
  })

  it('withBase: joins like ufo', () => {
    for (const [input, base] of [['/mcp', 'https://h/api'], ['mcp', 'https://h/api/'], ['https://o/x', 'https://h'], ['/api/x', '/api'], ['/x', '']]) {
      expect(withBase(input!, base!)).toBe(ufo.withBase(input!, base!))
    }
  })

  it('destr: parses JSON, keeps other text, drops prototype keys', () => {
    for (const text of ['{"a":1,"b":[true,null]}', '42', '"s"', 'not json', '']) expect(destr(text)).toEqual(realDestr(text))
    const parsed = destr('{"__proto__":{"polluted":1},"a":{"constructor":{"prototype":{"x":1}}}}') as Record<string, unknown>
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype)
    expect(parsed.a).toEqual({})
  })
})
