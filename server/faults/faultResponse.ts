import { STATUS_CODES as REASONS } from 'node:http'
import { fail, json } from '../http/envelope.ts'
import type { FaultSpec } from '../types.ts'
import type { FaultStore } from './createFaults.ts'
import { droppedConnection } from './droppedConnection.ts'

/** What {@link faultResponse} needs besides the fault. */
export interface FaultRequest {
  requestId: string
  signal: AbortSignal
  /** The request targets a linkUrl `callTool` route (its answers are `{data: "<JSON>"}`). */
  isLink: boolean
  faults: FaultStore
  /** The answer AGB Local would give without the fault (used by `slow-drip`). */
  real(): Promise<Response>
}

const STATUS_CODES: Record<number, string> = {
  400: 'InvalidParameter', 403: 'AccessDenied', 404: 'NotFound', 408: 'RequestTimeout', 429: 'Throttling',
  500: 'InternalError', 502: 'BadGateway', 503: 'ServiceUnavailable', 504: 'GatewayTimeout',
}

/** The real response with its body re-sent one byte every `intervalMs` (aborts with the request). */
async function drip(res: Response, intervalMs: number, signal: AbortSignal): Promise<Response> {
  const bytes = new Uint8Array(await res.arrayBuffer())
  let at = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close()
      return new Promise<void>((resolve) => {
        const onAbort = () => {
          clearTimeout(timer)
          controller.error(signal.reason)
          resolve()
        }
        if (signal.aborted) return onAbort()
        signal.addEventListener('abort', onAbort, { once: true })
        timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort)
          controller.enqueue(bytes.subarray(at, at + 1))
          at++
          resolve()
        }, intervalMs)
      })
    },
    cancel() {
      clearTimeout(timer)
    },
  }, { highWaterMark: 0 })
  const headers = new Headers(res.headers)
  headers.delete('content-length')
  return new Response(body, { status: res.status, statusText: res.statusText, headers })
}

/**
 * Builds the faulty answer for an injected fault (see {@link FaultSpec} for each kind).
 * @returns a Response, or rejects (`hang` on abort/close, `drop` at once)
 */
export async function faultResponse(fault: FaultSpec, r: FaultRequest): Promise<Response> {
  const { requestId } = r
  const headers = { 'x-request-id': requestId }
  switch (fault.kind) {
    case 'status': {
      const status = fault.status ?? 500
      return fail(requestId, status, fault.code ?? STATUS_CODES[status] ?? 'InjectedFault', fault.message ?? `injected HTTP ${status}`)
    }
    case 'retry-after': {
      const status = fault.status ?? 429
      const res = fail(requestId, status, fault.code ?? 'Throttling', fault.message ?? 'Request was denied due to request throttling.')
      res.headers.set('retry-after', String(fault.retryAfter ?? 1))
      return res
    }
    case 'malformed-json':
      return new Response(`{"success": true, "code": "OK", "requestId": "${requestId}", "data": {"isError": fa`, {
        status: fault.status ?? 200, headers: { ...headers, 'content-type': 'application/json;charset=utf-8' } })
    case 'html': {
      const status = fault.status ?? 502
      const title = `${status} ${REASONS[status] ?? 'Error'}`
      return new Response(`<html><head><title>${title}</title></head><body><center><h1>${title}</h1></center><hr><center>AGB Local (injected fault)</center></body></html>\n`, {
        status, headers: { ...headers, 'content-type': 'text/html' } })
    }
    case 'empty':
      return new Response(null, { status: fault.status ?? 200, headers })
    case 'envelope-failure':
      return json({ success: false, code: fault.code ?? 'InternalError', message: fault.message ?? 'injected envelope failure', requestId, httpStatusCode: fault.status ?? 500 }, 200, requestId)
    case 'tool-error': {
      const result = { isError: true, content: [{ type: 'text', text: fault.message ?? 'Error: injected tool error' }] }
      if (r.isLink) return json({ data: JSON.stringify({ result }) }, 200, requestId)
      return json({ success: true, code: 'OK', message: '', requestId, httpStatusCode: 200, data: result }, 200, requestId)
    }
    case 'schema':
      if (r.isLink) return json({ data: 42 }, 200, requestId)
      return json({ success: true, code: 'OK', message: '', requestId, httpStatusCode: 200, data: 42 }, 200, requestId)
    case 'hang':
      return r.faults.hang(r.signal)
    case 'drop':
      throw droppedConnection()
    case 'slow-drip':
      return drip(await r.real(), fault.intervalMs ?? 10, r.signal)
    case 'lost-answer': {
      // The other faults fire before the request does anything, so they never produce the
      // hardest case for a client: the work was done (a session exists) but the answer never
      // arrived. Run the request to the end, then lose its answer.
      const real = await r.real()
      await real.arrayBuffer()
      return faultResponse({ ...fault, kind: fault.lostAs ?? 'drop' }, r)
    }
  }
}
