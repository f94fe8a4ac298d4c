import type { Route } from './Route.ts'

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>AGB Local test page</title></head>
<body><h1 id="greeting">Hello from AGB Local</h1><p>A static page AGB Local serves so browser sessions have something to open offline.</p></body></html>\n`

/**
 * `GET /local/test-page`: a small static page with the title `AGB Local test page`, so a
 * browser session can navigate somewhere without internet access (sandboxes share the host
 * network by default, so the browser reaches it at the address AGB Local listens on). No key:
 * it carries nothing secret.
 */
export const testPageRoute: Route = {
  method: 'GET',
  path: '/local/test-page',
  auth: 'none',
  run(ctx) {
    return new Response(PAGE, { status: 200, headers: { 'content-type': 'text/html;charset=utf-8', 'x-request-id': ctx.requestId, 'cache-control': 'no-store' } })
  },
}
