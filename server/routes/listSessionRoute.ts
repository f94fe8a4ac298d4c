import { fail, ok } from '../http/envelope.ts'
import type { Session } from '../sessions/Session.ts'
import type { Route, RouteContext } from './Route.ts'
import { parseLabels } from './parseLabels.ts'

const MAX_PAGE = 100

function cursorOf(s: Session): string {
  return Buffer.from(`${s.createdAt}:${s.id}`).toString('base64url')
}

/** Sessions after the cursor's; by creation time when the cursor's session was forgotten meanwhile. */
function after(sessions: Session[], cursor: { createdAt: number; id: string }): Session[] {
  const at = sessions.findIndex((s) => s.id === cursor.id)
  return at >= 0 ? sessions.slice(at + 1) : sessions.filter((s) => s.createdAt > cursor.createdAt)
}

function parseCursor(token: string): { createdAt: number; id: string } | undefined {
  const m = /^(\d+):(.+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'))
  return m ? { createdAt: Number(m[1]), id: m[2]! } : undefined
}

function listSession(ctx: RouteContext): Response {
  const q = ctx.url.searchParams
  const max = q.get('maxResults') ? Number(q.get('maxResults')) : 10
  if (!Number.isInteger(max) || max < 1) return fail(ctx.requestId, 400, 'InvalidParameter', 'maxResults must be a positive integer')
  const maxResults = Math.min(max, MAX_PAGE)
  const wanted = Object.entries(parseLabels(q.get('labels')))
  const includeAll = q.get('isAll') === 'true'
  const token = q.get('nextToken')
  const cursor = token ? parseCursor(token) : undefined
  if (token && !cursor) return fail(ctx.requestId, 400, 'InvalidParameter', 'nextToken is invalid')
  const all = ctx.store.all() // in creation order
  const wantedSession = (s: Session) => (includeAll || s.status === 'RUNNING') && wanted.every(([k, v]) => s.labels[k] === v)
  const matching = all.filter(wantedSession)
  const rest = cursor ? after(all, cursor).filter(wantedSession) : matching
  const page = rest.slice(0, maxResults)
  const more = rest.length > page.length
  return ok(ctx.requestId, page.map((s) => ({ sessionId: s.id, sessionStatus: s.status })), {
    extras: { ...(more ? { nextToken: cursorOf(page[page.length - 1]!) } : {}), maxResults, count: matching.length },
  })
}

/**
 * `GET /sdk/ListSession?maxResults=&nextToken=&labels=` (§3.5): RUNNING sessions (all known
 * ones with `isAll=true`) carrying every given label, oldest first; `data` is the page, and
 * `nextToken` (absent on the last page), `maxResults` and `count` (total) are top-level.
 */
export const listSessionRoute: Route = { method: 'GET', path: '/sdk/ListSession', auth: 'apiKey', run: listSession }
