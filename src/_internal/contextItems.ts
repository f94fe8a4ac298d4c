import { AgbError } from '../errors.ts'
import { facts, type Envelope } from './envelope.ts'

const parse = (x: unknown): unknown => {
  if (typeof x !== 'string') return x
  try {
    return JSON.parse(x)
  } catch {
    return x
  }
}

/**
 * The sync task items of a GetContextInfo answer. `data.contextStatus` is a JSON string of
 * `[{ type: 'data', data: '<JSON string of items>' }]`: two levels of string encoding. A missing
 * status is no items; anything else that is not that shape is an `invalid_response`.
 */
export function contextItems(envelope: Envelope): Record<string, unknown>[] {
  const status = parse((envelope.data as { contextStatus?: unknown } | null | undefined)?.contextStatus)
  if (status == null) return []
  if (!Array.isArray(status)) {
    throw new AgbError('invalid_response', `${envelope.op}: unexpected response at contextStatus: not a list${facts(envelope.route, envelope.requestId && `request ${envelope.requestId}`)}`, {
      status: envelope.status,
      ...(envelope.requestId ? { requestId: envelope.requestId } : {}),
    })
  }
  return status.flatMap((group: unknown) => {
    const g = (group ?? {}) as { type?: unknown; data?: unknown }
    if (g.type !== undefined && g.type !== 'data') return []
    const items = parse(g.data)
    return Array.isArray(items) ? (items.filter((i) => typeof i === 'object' && i !== null) as Record<string, unknown>[]) : []
  })
}
