import { createFetch } from 'ofetch'
import type { Client } from '../client.ts'
import { AgbError, isAgbError } from '../errors.ts'
import { apiKeys } from './apiKeys.ts'
import type { Call } from './deadline.ts'
import { envelopeError, THROTTLED, toEnvelope, type Envelope } from './envelope.ts'
import { parseJson } from './parseJson.ts'
import { redact } from './redact.ts'
import { RETRY_STATUS, retryDelay, retryPolicy } from './retryPolicy.ts'
import { pause, untilAborted } from './sleep.ts'
import { refusedBeforeSending, transportError } from './transportError.ts'

/** One request to the API host. */
export interface ApiRequest {
  method: 'GET' | 'POST'
  path: string
  query?: Record<string, string | number | boolean | undefined>
  /** JSON body. POSTs without one send `{}` (the service rejects an empty POST body). */
  body?: Record<string, unknown>
  /** Safe to repeat: retried on 408/425/429/5xx and network failures. */
  idempotent?: boolean
}

// One ofetch instance per client, made on first use (clients are frozen data). Its `fetch`
// is looked up per request, so polyfills and spies installed later apply, and it is raced
// against the signal: a `fetch` that ignores its signal still ends at the per-attempt clock.
const instances = new WeakMap<Client, ReturnType<typeof createFetch>>()

/**
 * One attempt, as ofetch hands it over (its `init` carries the per-attempt `timeout` it armed).
 * Node 20 garbage-collects an `AbortSignal.timeout` that only an `AbortSignal.any` refers to,
 * so ofetch's per-attempt timer can silently never fire there: a timer held here until the
 * attempt settles backs it up (its `TimeoutError` is the one ofetch's would be).
 */
function attemptFetch(client: Client, input: RequestInfo | URL, init: RequestInit & { timeout?: number }): Promise<Response> {
  let signal = init.signal!
  let timer: ReturnType<typeof setTimeout> | undefined
  if (init.timeout) {
    const backup = new AbortController()
    timer = setTimeout(() => backup.abort(new DOMException('The operation timed out.', 'TimeoutError')), init.timeout)
    signal = AbortSignal.any([signal, backup.signal])
  }
  return untilAborted(signal, (client.fetch ?? globalThis.fetch)(input, { ...init, signal })).finally(() => clearTimeout(timer))
}

/**
 * Sends one API request through ofetch and returns its envelope whatever it says; throws an
 * `AgbError` only when no readable envelope came back after the last attempt.
 *
 * ofetch does the sending, body and query serialisation, per-attempt `timeout` and the
 * retries (`retry`, `retryDelay`: full jitter or `Retry-After`, `retryStatusCodes`); its hooks
 * feed the client's logging hooks (`requestHooks`). What ofetch cannot express is the thin layer here:
 * - the call's deadline across attempts and backoffs (`untilAborted(call.signal, ...)`);
 * - a non-idempotent request is repeated only when the connection was refused before
 *   sending (the `onRequestError` hook throws for any other failure, which stops ofetch's
 *   retry), and its error statuses are never retried (`ignoreResponseError`);
 * - a 5xx reported only in the body of an HTTP 200 envelope is retried for idempotent calls.
 */
export async function send(client: Client, request: ApiRequest, call: Call): Promise<Envelope> {
  const { method, path, idempotent } = request
  const route = `${method} ${path}`
  const url = client.endpoint + path
  const policy = retryPolicy(client, call)
  const key = apiKeys.get(client)
  // The logging hooks (`requestHooks`) see ofetch's context and make the summaries.
  const hooks = client.hooks
  let $fetch = instances.get(client)
  if (!$fetch) instances.set(client, ($fetch = createFetch({ fetch: (input, init) => attemptFetch(client, input, init!) })))
  let attempt = 0
  for (;;) {
    let response: Response & { _data?: any }
    try {
      response = await untilAborted(
        call.signal,
        $fetch.raw(url, {
          method,
          query: request.query,
          body: method === 'POST' ? (request.body ?? {}) : undefined,
          headers: key ? { ...client.headers, authorization: `Bearer ${key}` } : client.headers,
          signal: call.signal,
          timeout: policy.attemptTimeout || undefined,
          retry: policy.attempts - attempt - 1,
          retryDelay: (ctx) => retryDelay(policy, attempt, ctx.response?.headers.get('retry-after')),
          retryStatusCodes: RETRY_STATUS,
          ignoreResponseError: !idempotent,
          // A service that echoes the key back must not put it into our messages.
          // Service bodies are JSON envelopes; anything else is kept as text for the error message.
          parseResponse: (body) => parseJson((body = redact(body, key))) ?? body,
          onRequest(ctx) {
            attempt++
            // ofetch combines the per-attempt timer into `options.signal` and a retry reuses
            // the combined (already aborted) signal: each attempt starts from the call's own.
            ctx.options.signal = call.signal
            hooks?.(ctx, attempt)
          },
          onRequestError(ctx) {
            const e =
              !call.signal.aborted && ctx.options.timeout && (ctx.error as Error | undefined)?.name === 'TimeoutError'
                ? new AgbError('timeout', `${call.op} timed out after ${policy.attemptTimeout} ms (${route}, retry.attemptTimeout, attempt ${attempt})`, { status: 0, retryable: true })
                : transportError(ctx.error, call, route)
            hooks?.(ctx, attempt, e.code)
            // Thrown, it ends ofetch's retries: after the caller's abort or the deadline, and
            // for a request that may have reached the service and is not safe to repeat.
            if (call.signal.aborted || attempt >= policy.attempts || !(idempotent || refusedBeforeSending(ctx.error))) throw e
          },
          onResponse(ctx) {
            hooks?.(ctx, attempt)
          },
        }),
      )
    } catch (error) {
      if (isAgbError(error)) throw error
      // An error status after the last retry: its envelope says what happened.
      const failed = (error as { response?: typeof response }).response
      if (!failed) throw transportError(error, call, route)
      response = failed
    }
    const envelope = toEnvelope(response.status, response.headers, response._data, call.op, route)
    // The service may report a failure in the body only (HTTP 200 with `httpStatusCode` 5xx,
    // or a throttling code): ofetch sees a success, so such answers are repeated here.
    if (!idempotent || envelope.success || !((envelope.httpStatusCode ?? 0) >= 500 || THROTTLED.test(envelope.code)) || attempt >= policy.attempts) return envelope
    await pause(retryDelay(policy, attempt, response.headers.get('retry-after')), call, route)
  }
}

/** Sends one API request and returns its envelope, throwing a typed error unless it succeeded. */
export async function api(client: Client, request: ApiRequest, call: Call): Promise<Envelope> {
  const envelope = await send(client, request, call)
  if (!envelope.ok) throw envelopeError(envelope)
  return envelope
}
