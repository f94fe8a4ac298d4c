import { answerError, type Envelope } from './envelope.ts'
import { parseJsonField } from './parseJson.ts'

/**
 * The sync task items of a GetContextInfo answer. `data.contextStatus` is a JSON string of
 * `[{ type: 'data', data: '<JSON string of items>' }]`: two levels of string encoding. A missing
 * status is no items; anything else that is not that shape is an `invalid_response`.
 */
export function contextItems(envelope: Envelope): Record<string, unknown>[] {
  const status = parseJsonField((envelope.data as { contextStatus?: unknown } | null | undefined)?.contextStatus)
  if (status == null) return []
  if (!Array.isArray(status)) {
    // No service code: the answer succeeded, its data has the wrong shape.
    throw answerError('invalid_response', { op: envelope.op, route: envelope.route, status: envelope.status, requestId: envelope.requestId }, 'unexpected response at contextStatus: not a list')
  }
  return status.flatMap((group: unknown) => {
    const g = (group ?? {}) as { type?: unknown; data?: unknown }
    if (g.type !== undefined && g.type !== 'data') return []
    const items = parseJsonField(g.data)
    return Array.isArray(items) ? (items.filter((i) => typeof i === 'object' && i !== null) as Record<string, unknown>[]) : []
  })
}
