/** CORS headers on every response, so browser pages on other origins can call AGB Local. */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization, content-type, x-access-token',
  'access-control-allow-methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
  'access-control-expose-headers': 'x-request-id',
  'access-control-max-age': '600',
}

/** A JSON response carrying the request id header. */
export function json(body: unknown, status: number, requestId: string): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json;charset=utf-8', 'x-request-id': requestId },
  })
}

/** Extra top-level envelope fields (e.g. ListSession's `nextToken`, `maxResults`, `count`). */
export type EnvelopeExtras = Record<string, unknown>

/**
 * Success envelope `{success:true, code, message:'', requestId, httpStatusCode:200, data?}`.
 * `data` is omitted when undefined (release/keep-alive answers carry none).
 */
export function ok(requestId: string, data?: unknown, options: { code?: string; extras?: EnvelopeExtras } = {}): Response {
  const body: Record<string, unknown> = { success: true, code: options.code ?? 'OK', message: '', requestId, httpStatusCode: 200 }
  if (data !== undefined) body.data = data
  return json({ ...body, ...options.extras }, 200, requestId)
}

/**
 * Failure envelope `{success:false, code, message, requestId, httpStatusCode}` with the given
 * transport status; `data` only when the service sends one (tool calls send `{}`).
 */
export function fail(requestId: string, status: number, code: string, message: string, data?: unknown): Response {
  const body: Record<string, unknown> = { success: false, code, message, requestId, httpStatusCode: status }
  if (data !== undefined) body.data = data
  return json(body, status, requestId)
}
