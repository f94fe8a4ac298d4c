import { ok } from '../http/envelope.ts'
import type { Route } from './Route.ts'
import { BadRequest } from './Route.ts'
import { parseLabels } from './parseLabels.ts'
import { sessionNotFound } from './sessionNotFound.ts'

/**
 * `POST /sdk/SetLabel?sessionId=&Labels=<JSON>` (§3.8, capital `L`): replaces the labels of a
 * running session. Answers the bare success envelope.
 */
export const setLabelRoute: Route = {
  method: 'POST',
  path: '/sdk/SetLabel',
  auth: 'apiKey',
  run(ctx) {
    const q = ctx.url.searchParams
    const raw = q.get('Labels') ?? q.get('labels')
    if (raw === null) throw new BadRequest('Labels is required')
    const labels = parseLabels(raw, 'Labels')
    if (Object.entries(labels).some(([k, v]) => !k.trim() || !v.trim())) throw new BadRequest('label keys and values must not be blank')
    const session = ctx.store.live(q.get('sessionId') ?? '')
    if (!session) return sessionNotFound(ctx.requestId)
    session.labels = labels
    return ok(ctx.requestId)
  },
}
