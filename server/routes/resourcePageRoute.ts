import type { Route } from './Route.ts'

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function page(status: number, title: string, rows: Array<[string, string]>, requestId: string): Response {
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}td{padding:.2em 1em .2em 0}th{text-align:left;padding-right:1em}</style></head>
<body><h1>${escapeHtml(title)}</h1><table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>
<p>AGB Local has no remote desktop: use the API (run_code, shell, file tools) to work in this sandbox.</p></body></html>\n`
  return new Response(body, { status, headers: { 'content-type': 'text/html;charset=utf-8', 'x-request-id': requestId, 'cache-control': 'no-store' } })
}

/**
 * `GET /resource/<sessionId>`: what a session's `resourceUrl` shows in a browser, a small
 * status page (no secrets: id, status, image, times). Session ids are unguessable, so like
 * the service's resource URLs it needs no API key.
 */
export const resourcePageRoute: Route = {
  method: 'GET',
  path: /^\/resource\/([^/]+)$/,
  auth: 'none',
  run(ctx) {
    const id = decodeURIComponent(ctx.params[0] ?? '')
    const session = ctx.store.get(id)
    if (!session) return page(404, 'Session not found', [['session', id]], ctx.requestId)
    const idleLeft = Math.max(0, Math.round((session.lastActivity + session.idleTimeoutMs - Date.now()) / 1000))
    return page(200, `AGB Local session ${session.id}`, [
      ['status', session.status],
      ['image', session.imageId],
      ['created', new Date(session.createdAt).toISOString()],
      ['last activity', new Date(session.lastActivity).toISOString()],
      ['idle release in', session.status === 'RUNNING' ? `${idleLeft} s` : '-'],
      ['processes', String(session.sandbox.hostPids().length)],
    ], ctx.requestId)
  },
}
