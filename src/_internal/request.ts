import { createFetch } from 'ofetch'
import type { Client } from '../client.ts'
import { AgbError, type AgbErrorCode } from '../errors.ts'

/** One call to the API host. */
export interface ApiCall {
  method: 'GET' | 'POST'
  path: string
  query?: Record<string, string | number | boolean | undefined>
  /** JSON body. POSTs without one send `{}` (PROTOCOL §1.3: the safe choice). */
  body?: Record<string, unknown>
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
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)

const field = (o: Record<string, unknown>, name: string): unknown =>
  o[name] ?? o[name[0]!.toUpperCase() + name.slice(1)]

const str = (x: unknown): string => (typeof x === 'string' ? x : x == null ? '' : String(x))

/** Short, secret-free text for messages: service text can be long or contain HTML. */
export const truncate = (text: string, max = 300): string =>
  text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text

/** Maps an aborted signal to `timeout` or `aborted`, anything else to `network`. */
export function transportError(error: unknown, signal: AbortSignal | undefined, label: string): AgbError {
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
 * Sends one API request and returns its normalised envelope, whatever the envelope says.
 * Throws only when no readable envelope came back (transport failure, non-JSON body).
 */
export async function send(client: Client, call: ApiCall, signal?: AbortSignal): Promise<Envelope> {
  const label = `[${call.method} ${call.path}]`
  const $fetch = createFetch({ fetch: (input, init) => (client.fetch ?? globalThis.fetch)(input, init) })
  let response: Response & { _data?: unknown }
  try {
    response = await $fetch.raw(client.endpoint + call.path, {
      method: call.method,
      query: call.query,
      body: call.method === 'POST' ? (call.body ?? {}) : undefined,
      headers: {
        ...client.headers,
        authorization: `Bearer ${client.apiKey}`,
        'content-type': 'application/json',
      },
      signal,
      retry: false,
      ignoreResponseError: true,
      responseType: 'text',
    })
  } catch (error) {
    throw transportError(error, signal, label)
  }
  const status = response.status
  const text = str(response._data)
  const headerId = response.headers.get('x-request-id') ?? ''
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  if (!isObject(json)) {
    const code = status >= 400 ? statusCode(status) : 'invalid_response'
    const what = status >= 400 ? `HTTP ${status}` : `HTTP ${status}, not a JSON envelope`
    throw new AgbError(code, `${label} ${what}: ${truncate(text) || '(empty body)'}${headerId ? ` (request ${headerId})` : ''}`, {
      status,
      ...(headerId ? { requestId: headerId } : {}),
      retryable: retryableStatus(status),
    })
  }
  const body = isObject(json.body) ? json.body : json
  const success = field(body, 'success') === true
  const httpStatusCode = field(body, 'httpStatusCode')
  return {
    ok: status < 400 && success,
    status,
    success,
    code: str(field(body, 'code')),
    message: str(field(body, 'message')),
    requestId: str(field(body, 'requestId')) || headerId,
    ...(typeof httpStatusCode === 'number' ? { httpStatusCode } : {}),
    data: field(body, 'data'),
    top: json,
    label,
  }
}

/** Sends one API request and returns its envelope, throwing a typed error unless it succeeded. */
export async function api(client: Client, call: ApiCall, signal?: AbortSignal): Promise<Envelope> {
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
