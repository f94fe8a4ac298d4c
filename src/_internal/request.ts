import { createFetch } from 'ofetch'
import type { Client } from '../client.ts'
import { AgbError, isAgbError, type AgbErrorCode } from '../errors.ts'
import { retryPolicy, sleep, timerMs } from './signal.ts'
import { text } from './text.ts'

/** One call to the API host. */
export interface ApiCall {
  method: 'GET' | 'POST'
  path: string
  query?: Record<string, string | number | boolean | undefined>
  /** JSON body. POSTs without one send `{}` (PROTOCOL §1.3: the safe choice). */
  body?: Record<string, unknown>
  /** Safe to repeat: retried on 408/425/429/5xx and network failures. */
  idempotent?: boolean
}

/** A response envelope, normalised (PROTOCOL §2.1: nested `body`, PascalCase keys). */
export interface Envelope {
  ok: boolean
  status: number
  success: boolean
  code: string
  message: string
  requestId: string
  httpStatusCode?: number
  data: unknown
  /** The top-level JSON object, for pagination siblings of `data` (`nextToken` ...). */
  top: Record<string, unknown>
  label: string
  /** Milliseconds the service asked to wait (`Retry-After`). */
  retryAfter?: number
  /** The error to throw for a non-JSON answer that was kept only to decide on a retry. */
  thrown?: AgbError
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)

const field = (o: Record<string, unknown>, name: string): unknown =>
  o[name] ?? o[name[0]!.toUpperCase() + name.slice(1)]

const str = text

/** Replaces every occurrence of `secret` in text with `[redacted]`. */
export const redact = (value: string, secret: string | undefined): string => (secret && value.includes(secret) ? value.split(secret).join('[redacted]') : value)

/** Settles like `work`, or rejects with the signal's reason as soon as it aborts. */
export function untilAborted<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

/** Short, secret-free text for messages: service text can be long or contain HTML. */
export const truncate = (text: string, max = 300): string =>
  text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text

/** Maps an aborted signal to `timeout` or `aborted`, anything else to `network`. */
export function transportError(error: unknown, signal: AbortSignal | undefined, label: string): AgbError {
  // ofetch's FetchError keeps the request options (headers with the key) reachable: keep
  // only what it wraps.
  if ((error as { name?: unknown } | undefined)?.name === 'FetchError') error = (error as Error).cause ?? new Error((error as Error).message)
  if (signal?.aborted) {
    const timedOut = (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError'
    return timedOut
      ? new AgbError('timeout', `${label}: timed out`, { cause: error, status: 0, retryable: true })
      : new AgbError('aborted', `${label}: aborted`, { cause: signal.reason ?? error, status: 0 })
  }
  const reason = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : str(error)
  return new AgbError('network', `${label}: network error${reason ? `: ${truncate(reason, 200)}` : ''}`, {
    cause: error,
    status: 0,
    retryable: true,
  })
}

/**
 * Sends one API request, retrying per the client's policy, and returns its normalised
 * envelope whatever it says. Throws only when no readable envelope came back (transport
 * failure, non-JSON body) after the last attempt.
 */
export async function send(client: Client, call: ApiCall, signal: AbortSignal): Promise<Envelope> {
  const policy = retryPolicy(client, signal)
  for (let attempt = 1; ; attempt++) {
    let delay: number
    try {
      const envelope = await sendOnce(client, call, signal, attempt, policy.attemptTimeout)
      // The service may report a failure in the body only (HTTP 200, `httpStatusCode` 5xx).
      const bodyStatus = envelope.success ? 0 : (envelope.httpStatusCode ?? 0)
      const again = call.idempotent && (retryableStatus(envelope.status) || retryableStatus(bodyStatus) || (!envelope.success && THROTTLED.test(envelope.code)))
      if (!again || attempt >= policy.attempts) {
        if (envelope.thrown) throw envelope.thrown
        return envelope
      }
      delay = envelope.retryAfter ?? backoff(policy, attempt)
    } catch (error) {
      const e = error as AgbError
      // Only idempotent calls are repeated after an ambiguous failure; others only when the
      // connection was refused, so the server provably never saw the request.
      const again = isAgbError(e) && e.retryable && !signal.aborted && (call.idempotent || refusedBeforeSending(e))
      if (!again || attempt >= policy.attempts) throw e
      delay = backoff(policy, attempt)
    }
    if (delay > policy.maxDelay) delay = policy.maxDelay
    await sleep(delay, signal).catch((reason: unknown) => {
      throw transportError(reason, signal, `[${call.method} ${call.path}]`)
    })
  }
}

const THROTTLED = /throttl|ratelimit|toomanyrequests/i

// One ofetch instance per client, made on first use (clients are frozen data).
const transports = new WeakMap<Client, ReturnType<typeof createFetch>>()
function transport(client: Client) {
  // `fetch` is looked up per request, so polyfills and spies installed later apply.
  const $fetch = createFetch({ fetch: (input, init) => (client.fetch ?? globalThis.fetch)(input, init) })
  transports.set(client, $fetch)
  return $fetch
}

/** Full-jitter exponential backoff: a random wait up to base·2^(attempt-1), capped. */
export const backoff = (p: { baseDelay: number; maxDelay: number }, attempt: number) => Math.random() * Math.min(p.maxDelay, p.baseDelay * 2 ** (attempt - 1))

function refusedBeforeSending(error: AgbError): boolean {
  if (error.code !== 'network') return false
  const cause = error.cause as { code?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined
  const all = `${text(cause?.code)} ${text(cause?.cause?.code)} ${text(cause?.cause?.message)} ${error.message}`
  return /ECONNREFUSED|connection refused|ConnectionRefused/i.test(all)
}

/** Seconds or an HTTP date, in milliseconds (`undefined` when absent or unreadable). */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

async function sendOnce(client: Client, call: ApiCall, signal: AbortSignal, attempt: number, attemptTimeout: number): Promise<Envelope> {
  const label = `[${call.method} ${call.path}]`
  const url = client.endpoint + call.path
  const $fetch = transports.get(client) ?? transport(client)
  const started = Date.now()
  const hooks = client.hooks
  hooks?.onRequest?.({ method: call.method, url, attempt })
  // The per-request clock: a stuck attempt of an idempotent call is abandoned and retried
  // while the whole call's deadline still has time.
  const attemptSignal = attemptTimeout > 0 ? AbortSignal.any([signal, AbortSignal.timeout(timerMs(attemptTimeout))]) : signal
  let response: Response & { _data?: unknown }
  try {
    // Raced against the signal: a fetch that ignores its signal cannot outlive the deadline.
    response = await untilAborted(attemptSignal, $fetch.raw(url, {
      method: call.method,
      query: call.query,
      body: call.method === 'POST' ? (call.body ?? {}) : undefined,
      headers: {
        ...client.headers,
        ...(client.apiKey ? { authorization: `Bearer ${client.apiKey}` } : {}),
        'content-type': 'application/json',
      },
      signal: attemptSignal,
      retry: false,
      ignoreResponseError: true,
      responseType: 'text',
    }))
  } catch (error) {
    const e =
      attemptSignal.aborted && !signal.aborted
        ? new AgbError('timeout', `${label}: no answer within ${attemptTimeout} ms (attempt ${attempt})`, { status: 0, retryable: true })
        : transportError(error, signal, label)
    hooks?.onResponse?.({ method: call.method, url, attempt, status: 0, requestId: '', durationMs: Date.now() - started, error: e.code })
    throw e
  }
  const status = response.status
  // A service that echoes the key back must not put it into our messages.
  const text = redact(str(response._data), client.apiKey)
  const headerId = response.headers.get('x-request-id') ?? ''
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'))
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  if (!isObject(json)) {
    const code = status >= 400 ? statusCode(status) : 'invalid_response'
    const what = status >= 400 ? `HTTP ${status}` : `HTTP ${status}, not a JSON envelope`
    hooks?.onResponse?.({ method: call.method, url, attempt, status, requestId: headerId, durationMs: Date.now() - started, error: code })
    const error = new AgbError(code, `${label} ${what}: ${truncate(text) || '(empty body)'}${headerId ? ` (request ${headerId})` : ''}`, {
      status,
      ...(headerId ? { requestId: headerId } : {}),
      retryable: retryableStatus(status),
    })
    // A non-JSON 5xx/429 of an idempotent call is retried like a JSON one.
    if (call.idempotent && retryableStatus(status)) return { ...failedEnvelope(label, status, headerId, retryAfter), thrown: error }
    throw error
  }
  const body = isObject(json.body) ? json.body : json
  const success = field(body, 'success') === true
  const httpStatusCode = field(body, 'httpStatusCode')
  const requestId = str(field(body, 'requestId')) || headerId
  hooks?.onResponse?.({ method: call.method, url, attempt, status, requestId, durationMs: Date.now() - started, ...(status < 400 && success ? {} : { error: str(field(body, 'code')) || 'failed' }) })
  return {
    ok: status < 400 && success,
    status,
    success,
    code: str(field(body, 'code')),
    message: str(field(body, 'message')),
    requestId,
    ...(typeof httpStatusCode === 'number' ? { httpStatusCode } : {}),
    ...(retryAfter !== undefined ? { retryAfter } : {}),
    data: field(body, 'data'),
    top: json,
    label,
  }
}

function failedEnvelope(label: string, status: number, requestId: string, retryAfter: number | undefined): Envelope {
  return { ok: false, status, success: false, code: '', message: '', requestId, data: undefined, top: {}, label, ...(retryAfter !== undefined ? { retryAfter } : {}) }
}

/** Sends one API request and returns its envelope, throwing a typed error unless it succeeded. */
export async function api(client: Client, call: ApiCall, signal: AbortSignal): Promise<Envelope> {
  const envelope = await send(client, call, signal)
  if (!envelope.ok) throw envelopeError(envelope)
  return envelope
}

function statusCode(status: number): AgbErrorCode {
  if (status === 401 || status === 403) return 'unauthorized'
  if (status === 404) return 'not_found'
  if (status === 429) return 'rate_limited'
  if (status >= 500) return 'server_error'
  return 'api_error'
}

const retryableStatus = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500

/** True when an envelope says the session does not exist (tolerant, PROTOCOL §2.4). */
export function isNotFound(envelope: Envelope): boolean {
  return /notfound/i.test(envelope.code) || /not found/i.test(envelope.message)
}

/** The typed error for a failed envelope: the service's message, code and request id. */
export function envelopeError(envelope: Envelope, message?: string): AgbError {
  const { code: apiCode, status, requestId } = envelope
  let code: AgbErrorCode
  if (isNotFound(envelope)) code = /session/i.test(apiCode + envelope.message) ? 'session_not_found' : 'not_found'
  else if (/accessdenied|unauthori[sz]ed|forbidden|invalidapikey|invalidaccesskey/i.test(apiCode)) code = 'unauthorized'
  else if (/throttl|ratelimit|toomanyrequests/i.test(apiCode)) code = 'rate_limited'
  else code = statusCode(status >= 400 ? status : (envelope.httpStatusCode ?? status))
  const text = truncate(message ?? (envelope.message || 'Unknown error'))
  const facts = [apiCode, status >= 400 ? `HTTP ${status}` : '', requestId ? `request ${requestId}` : ''].filter(Boolean)
  return new AgbError(code, `${envelope.label} ${text}${facts.length ? ` (${facts.join(', ')})` : ''}`, {
    status,
    ...(apiCode ? { apiCode } : {}),
    ...(requestId ? { requestId } : {}),
    retryable: code === 'rate_limited' || code === 'server_error',
  })
}
