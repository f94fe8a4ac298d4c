// The README promises `timeout` bounds the whole call "whatever the server does (… a `fetch`
// that ignores its signal)". These fetches ignore the signal entirely: one never answers, one
// answers headers and then a body that never ends. Every call must still settle on time, with
// `timeout` (or `aborted` for the caller's signal), and never hang.
import { describe, expect, it } from 'vitest'
import * as sdk from '../../src/index.ts'

/** A fetch that never settles and never looks at `init.signal`. */
const neverAnswers: sdk.FetchLike = () => new Promise<Response>(() => undefined)

/** A fetch that answers 200 at once, then sends part of a body and stalls forever (signal ignored). */
const stallsInBody: sdk.FetchLike = async () =>
  new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"success": true, "code": "OK", "data": {"sessionId": "'))
      },
    }),
    { status: 200, headers: { 'content-type': 'application/json' } },
  )

const TIMEOUT = 300
/** Generous: a loaded 2-core machine may be slow, but a hang would be minutes. */
const SETTLES_WITHIN = 5_000

/**
 * One call of each kind: create, a tool call, a status read, a multi-request read, a delete,
 * with its timeout (runCode needs room for the sandbox's own earlier stop: at least 1.5 s).
 */
const CALLS: Array<[string, number, (client: sdk.Client, o: sdk.RequestOptions) => Promise<unknown>]> = [
  ['createSession', TIMEOUT, (c, o) => sdk.createSession(c, { imageId: 'agb-code-space-1', ...o })],
  ['exec', TIMEOUT, (c, o) => sdk.exec(c, 'sess-1', 'echo hi', o)],
  ['runCode', 2_000, (c, o) => sdk.runCode(c, 'sess-1', '1 + 1', o)],
  ['getSessionStatus', TIMEOUT, (c, o) => sdk.getSessionStatus(c, 'sess-1', o)],
  ['readFile', TIMEOUT, (c, o) => sdk.readFile(c, 'sess-1', '/tmp/x.txt', o)],
  ['deleteSession', TIMEOUT, (c, o) => sdk.deleteSession(c, 'sess-1', o)],
]

/** How the call settled, and when; a call still pending after SETTLES_WITHIN is a hang (the test fails fast). */
async function settle(start: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now()
  const p = start()
  let guard: ReturnType<typeof setTimeout> | undefined
  const hung = new Promise<Error>((resolve) => {
    guard = setTimeout(() => resolve(new Error(`still pending after ${SETTLES_WITHIN} ms: the deadline did not hold`)), SETTLES_WITHIN)
  })
  const error = await Promise.race([
    p.then(
      () => new Error('resolved although the fetch never answered'),
      (e: unknown) => e,
    ),
    hung,
  ])
  clearTimeout(guard)
  return { error, ms: performance.now() - started }
}

// Stateless (no server, nothing shared): the calls wait side by side.
describe.concurrent.each([
  ['never answers', neverAnswers],
  ['stalls in the body', stallsInBody],
] as const)('a fetch that ignores its signal and %s', (_name, fetch) => {
  const client = sdk.createClient({ apiKey: 'akm-test', endpoint: 'http://agb.invalid', fetch })

  it.each(CALLS)('%s rejects with timeout when its timeout (%i ms) passes', async (name, timeout, call) => {
    const { error, ms } = await settle(() => call(client, { timeout, retry: false }))
    expect(sdk.isAgbError(error, 'timeout'), `${name}: ${String(error)}`).toBe(true)
    expect(ms).toBeGreaterThanOrEqual(timeout - 20)
    expect(ms).toBeLessThan(SETTLES_WITHIN)
  })

  it.each(CALLS)('%s rejects with aborted when the caller aborts', async (name, _timeout, call) => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), TIMEOUT)
    const { error, ms } = await settle(() => call(client, { signal: controller.signal, timeout: 60_000 }))
    expect(sdk.isAgbError(error, 'aborted'), `${name}: ${String(error)}`).toBe(true)
    expect(ms).toBeLessThan(SETTLES_WITHIN)
  })

  it('the client-wide timeout bounds a call that sets none', async () => {
    const short = sdk.createClient({ apiKey: 'akm-test', endpoint: 'http://agb.invalid', fetch, timeout: TIMEOUT })
    const { error, ms } = await settle(() => sdk.getSessionStatus(short, 'sess-1'))
    expect(sdk.isAgbError(error, 'timeout'), String(error)).toBe(true)
    expect(ms).toBeLessThan(SETTLES_WITHIN)
  })
})
