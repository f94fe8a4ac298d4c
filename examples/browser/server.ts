// Serves the browser example and the proxy it talks to, on one origin:
//   /        the page          /app.js   the bundled app (imports agb-micro by name)
//   /agb/*   createProxyHandler: adds the API key, allows only what this page needs
// Configuration from the environment: AGB_API_KEY (required), AGB_ENDPOINT, AGB_IMAGE_ID, PORT.
// Try it against AGB Local: `npm run local -- --port 8787 --api-key dev` then
//   AGB_API_KEY=dev AGB_ENDPOINT=http://127.0.0.1:8787 npx tsx examples/browser/server.ts
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { build } from 'esbuild'
import { createProxyHandler } from 'agb-micro/proxy'
import { WebSocket } from 'ws'

const here = import.meta.dirname
const proxy = createProxyHandler({
  apiKey: process.env.AGB_API_KEY ?? '',
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
  if (req.url === '/' || req.url === '/index.html') return res.writeHead(200, { 'content-type': 'text/html' }).end(page)
  res.writeHead(404).end()
})
server.listen(Number(process.env.PORT ?? 8790), '127.0.0.1', () => {
  const address = server.address()
  console.log(`browser example on http://127.0.0.1:${typeof address === 'object' && address ? address.port : ''}`)
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)))
