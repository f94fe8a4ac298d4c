// Serves the browser example and the proxy it talks to, on one origin:
//   /        the page          /app.js   the bundled app (imports agb-micro by name)
//   /agb/*   createProxyHandler: adds the API key, allows only what this page needs
// Each visitor gets an anonymous id in a signed, HttpOnly cookie with the page; the proxy's
// `authorize` reads it back, so a visitor sees and uses only the sessions their own tab created.
// A real app would put its own login check there (see the README's security model).
// Configuration from the environment: AGB_API_KEY (required), AGB_ENDPOINT, AGB_IMAGE_ID, PORT,
// SESSION_SECRET (signs the visitor cookie; default: random per start, which signs everyone out on restart).
// Try it against AGB Local: `npm run local -- --port 8787 --api-key dev` then
//   AGB_API_KEY=dev AGB_ENDPOINT=http://127.0.0.1:8787 npx tsx examples/browser/server.ts
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { build } from 'esbuild'
import { createProxyHandler } from 'agb-micro/proxy'
import { WebSocket } from 'ws'

const here = import.meta.dirname
const COOKIE = 'agb_visitor'
const encoder = new TextEncoder()
const cookieKey = await crypto.subtle.importKey('raw', encoder.encode(process.env.SESSION_SECRET ?? crypto.randomUUID()), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])

/** A new visitor cookie value: `<random id>.<HMAC of the id>`. */
async function newVisitor(): Promise<string> {
  const id = crypto.randomUUID()
  return `${id}.${Buffer.from(await crypto.subtle.sign('HMAC', cookieKey, encoder.encode(id))).toString('base64url')}`
}

/** The visitor id in a request's cookie when its signature is ours, else null (the proxy answers 401). */
async function visitorOf(cookieHeader: string | null): Promise<string | null> {
  const value = new RegExp(`(?:^|;\\s*)${COOKIE}=([\\w-]+)\\.([\\w-]+)`).exec(cookieHeader ?? '')
  if (!value) return null
  // crypto.subtle.verify compares in constant time.
  return (await crypto.subtle.verify('HMAC', cookieKey, Buffer.from(value[2]!, 'base64url'), encoder.encode(value[1]!))) ? value[1]! : null
}

const proxy = createProxyHandler({
  apiKey: process.env.AGB_API_KEY ?? '',
  authorize: (request) => visitorOf(request.headers.get('cookie')),
  ...(process.env.AGB_ENDPOINT ? { endpoint: process.env.AGB_ENDPOINT } : {}),
  basePath: '/agb',
  allow: ['sessions', 'streamCode'],
  imageIds: [process.env.AGB_IMAGE_ID ?? 'agb-code-space-1'],
  maxSessions: 3,
  // Node 20 has no global WebSocket for the proxy's upstream stream.
  webSocket: WebSocket as never,
})
const app = (await build({ entryPoints: [`${here}/app.ts`], bundle: true, format: 'esm', platform: 'browser', write: false, minify: true })).outputFiles[0]!.text
const page = readFileSync(`${here}/index.html`, 'utf8')

/** Node's request → a web Request, and the web Response back: the proxy is web-standard. */
async function toWeb(req: IncomingMessage, res: ServerResponse, handler: (r: Request) => Promise<Response>) {
  const controller = new AbortController()
  res.on('close', () => controller.abort())
  const request = new Request(`http://${req.headers.host}${req.url}`, {
    method: req.method,
    headers: req.headers as Record<string, string>,
    ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' }),
    signal: controller.signal,
  } as RequestInit)
  const response = await handler(request)
  res.writeHead(response.status, Object.fromEntries(response.headers))
  if (!response.body) return res.end()
  const reader = response.body.getReader()
  for (let r = await reader.read(); !r.done; r = await reader.read()) res.write(r.value)
  res.end()
}

const server = createServer((req, res) => {
  if (req.url?.startsWith('/agb/')) return void toWeb(req, res, proxy).catch(() => res.destroy())
  if (req.url === '/app.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(app)
  if (req.url === '/' || req.url === '/index.html') {
    // A visitor without a valid cookie gets one with the page (add `Secure` when served over https).
    return void visitorOf(req.headers.cookie ?? null)
      .then(async (visitor) => (visitor ? {} : { 'set-cookie': `${COOKIE}=${await newVisitor()}; HttpOnly; SameSite=Strict; Path=/` }))
      .then((cookie) => res.writeHead(200, { 'content-type': 'text/html', ...cookie }).end(page))
      .catch(() => res.destroy())
  }
  res.writeHead(404).end()
})
server.listen(Number(process.env.PORT ?? 8790), '127.0.0.1', () => {
  const address = server.address()
  console.log(`browser example on http://127.0.0.1:${typeof address === 'object' && address ? address.port : ''}`)
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)))
