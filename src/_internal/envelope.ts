import { AgbError, type AgbErrorCode } from '../errors.ts'
import { truncate } from './redact.ts'
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

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)

const field = (o: Record<string, unknown>, name: string): unknown => o[name] ?? o[name[0]!.toUpperCase() + name.slice(1)]

/** The error code for an HTTP status. */
export function statusCode(status: number): AgbErrorCode {
  if (status === 401 || status === 403) return 'unauthorized'
  if (status === 404) return 'not_found'
  if (status === 429) return 'rate_limited'
  if (status >= 500) return 'server_error'
  return 'api_error'
}

/** `(POST /mcp, InvalidSession.NotFound, HTTP 400, request 1A2B)`: the facts of a failure. */
export const facts = (...parts: (string | false | undefined)[]): string => ` (${parts.filter(Boolean).join(', ')})`

/**
 * Reads an HTTP response whose body ofetch already parsed (`data`: an object, or the raw
 * text when it was not JSON) into an envelope. A body that is not a JSON object throws.
 */
export function toEnvelope(status: number, headers: Headers, data: unknown, op: string, route: string): Envelope {
  const headerId = headers.get('x-request-id') ?? ''
  if (!isObject(data)) {
    const code = status >= 400 ? statusCode(status) : 'invalid_response'
    throw new AgbError(code, `${op}: ${status >= 400 ? '' : 'not a JSON envelope: '}${truncate(toText(data)) || '(empty body)'}${facts(route, `HTTP ${status}`, headerId && `request ${headerId}`)}`, {
      status,
      ...(headerId ? { requestId: headerId } : {}),
      retryable: code === 'server_error' || code === 'rate_limited',
    })
  }
  const body = isObject(data.body) ? data.body : data
  const success = field(body, 'success') === true
  const httpStatusCode = field(body, 'httpStatusCode')
  return {
    ok: status < 400 && success,
    status,
    success,
    code: toText(field(body, 'code')),
    message: toText(field(body, 'message')),
    requestId: toText(field(body, 'requestId')) || headerId,
    ...(typeof httpStatusCode === 'number' ? { httpStatusCode } : {}),
    data: field(body, 'data'),
    top: data,
    op,
    route,
  }
}

/** True when an envelope says the resource does not exist (the service words it several ways). */
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
  return new AgbError(
    code,
    `${envelope.op}: ${truncate(message ?? (envelope.message || 'Unknown error'))}${facts(envelope.route, apiCode, status >= 400 && `HTTP ${status}`, requestId && `request ${requestId}`)}`,
    { status, ...(apiCode ? { apiCode } : {}), ...(requestId ? { requestId } : {}), retryable: code === 'rate_limited' || code === 'server_error' },
  )
}
