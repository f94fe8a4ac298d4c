import type { Session } from '../sessions/Session.ts'

/**
 * Session host URLs, derived from the origin the client used (so they work behind the injected
 * fetch, a loopback port or a proxy alike).
 */
export function sessionUrls(url: URL, session: Session): { resourceUrl: string; linkUrl: string; wsUrl: string } {
  const wsOrigin = url.origin.replace(/^http/, 'ws')
  const id = encodeURIComponent(session.id)
  return {
    resourceUrl: `${url.origin}/resource/${id}`,
    linkUrl: `${url.origin}/link/${id}`,
    wsUrl: `${wsOrigin}/ws/${id}`,
  }
}
