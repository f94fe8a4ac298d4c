import { AgbError, type AgbErrorCode } from '../errors.ts'
import { truncate } from './redact.ts'
import { isRecord } from './check.ts'
import { toText } from './toText.ts'

/** A response envelope, normalised (nested `body` or not, camelCase or PascalCase keys). */
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
  /** The operation that sent it (`exec` ...): messages start with it. */
  op: string
  /** `POST /mcp`: the request, for messages. */
  route: string
}

/** What an error about an answer names: the operation, and what is known of the answer. */
export interface Answer {
  op: string
  route?: string
  status?: number
  /** The service's own code (`InvalidSession.NotFound`). */
  code?: string
  requestId?: string
}

/** Service codes that mean "slow down" (`Throttling.User`, `RateLimitExceeded` ...). */
export const THROTTLED = /throttl|ratelimit|toomanyrequests/i

/** A field under its camelCase or PascalCase name (the service and Python's SDK use both). */
export const field = (o: Record<string, unknown>, name: string): unknown => o[name] ?? o[name[0]!.toUpperCase() + name.slice(1)]

/** The error code for an HTTP status. */
export const statusCode = (status: number): AgbErrorCode =>
  status === 401 || status === 403 ? 'unauthorized' : status === 404 ? 'not_found' : status === 429 ? 'rate_limited' : status >= 500 ? 'server_error' : 'api_error'

/** `(POST /mcp, InvalidSession.NotFound, HTTP 400, request 1A2B)`: the facts of a failure. */
export const facts = (...parts: (string | false | undefined)[]): string => ` (${parts.filter(Boolean).join(', ')})`

/**
 * The one constructor of errors about an answer: `op: message (route, apiCode, HTTP status,
 * request id)`, the message truncated (an `OK` code, as soft failures such as a refused create
 * carry, says nothing and is left out); rate limits and server errors are retryable.
 */
export const answerError = (code: AgbErrorCode, a: Answer, message: string): AgbError =>
  new AgbError(code, `${a.op}: ${truncate(message)}${facts(a.route, !/^ok$/i.test(a.code ?? '') && a.code, a.status! >= 400 && `HTTP ${a.status}`, a.requestId && `request ${a.requestId}`)}`, {
    status: a.status,
    apiCode: a.code,
    requestId: a.requestId,
    retryable: code === 'server_error' || code === 'rate_limited',
  })

/**
 * Reads an HTTP response whose body ofetch already parsed (`data`: an object, or the raw
 * text when it was not JSON) into an envelope. A body that is not a JSON object throws.
 */
export function toEnvelope(status: number, headers: Headers, data: unknown, op: string, route: string): Envelope {
  const headerId = headers.get('x-request-id') ?? ''
  if (!isRecord(data)) {
    const text = toText(data) || '(empty body)'
    throw answerError(status >= 400 ? statusCode(status) : 'invalid_response', { op, route, status, requestId: headerId }, status >= 400 ? text : `not a JSON envelope: ${text}`)
  }
  const body = isRecord(data.body) ? data.body : data
  const success = field(body, 'success') === true
  const httpStatusCode = field(body, 'httpStatusCode')
  return {
    ok: status < 400 && success,
    status,
    success,
    code: toText(field(body, 'code')),
    message: toText(field(body, 'message')),
    requestId: toText(field(body, 'requestId')) || headerId,
    httpStatusCode: typeof httpStatusCode === 'number' ? httpStatusCode : undefined,
    data: field(body, 'data'),
    top: data,
    op,
    route,
  }
}

/** True when an envelope says the resource does not exist (the service words it several ways). */
export const isNotFound = (envelope: Envelope): boolean => /notfound|not found/i.test(envelope.code + ' ' + envelope.message)

/** The typed error for a failed envelope: the service's message, code and request id. */
export function envelopeError(envelope: Envelope): AgbError {
  const { code, status } = envelope
  return answerError(
    isNotFound(envelope)
      ? /session/i.test(code + envelope.message) ? 'session_not_found' : 'not_found'
      : /accessdenied|unauthori[sz]ed|forbidden|invalidapikey|invalidaccesskey/i.test(code)
        ? 'unauthorized'
        : THROTTLED.test(code)
          ? 'rate_limited'
          : statusCode(status >= 400 ? status : (envelope.httpStatusCode ?? status)),
    envelope,
    envelope.message || 'Unknown error',
  )
}
