// A serverless code runner: one `(Request, env) => Response` handler for any fetch-based platform
// (Cloudflare Workers, Deno Deploy, Bun, Vercel/Netlify functions, AWS Lambda behind a fetch
// adapter). POST `{ "code": "...", "language": "python" }`; every request runs in a fresh session
// that is deleted before the response is sent. Answers `{ stdout, stderr, text, error }`.
//
//   export default { fetch: handler }                 // a Worker (env = its bindings)
//   Deno.serve((request) => handler(request, Deno.env.toObject()))
//
// Run directly, it serves the handler for a manual try (PORT, default 8788):
//   AGB_API_KEY=... npx tsx examples/serverless.ts
//   curl -s localhost:8788 -d '{"code":"print(6 * 7)"}'
//
// Configuration: AGB_API_KEY (required), AGB_ENDPOINT (e.g. an AGB Local URL), AGB_IMAGE_ID.
import { clientFromEnv, isAgbError, runCode, withSession, type Language } from 'agb-micro'

/** Environment-like configuration: a Worker's `env`, `process.env`, `Deno.env.toObject()`. */
export type Env = Record<string, unknown>

/** Runs the posted code in a fresh session and answers its output as JSON. */
export default async function handler(request: Request, env: Env = globalThis.process?.env ?? {}): Promise<Response> {
  const client = clientFromEnv(env) // throws (the platform's 500) when AGB_API_KEY is not configured
  if (request.method !== 'POST') return Response.json({ error: 'POST a JSON body { code, language? }' }, { status: 405, headers: { allow: 'POST' } })
  const body = (await request.json().catch(() => undefined)) as { code?: unknown; language?: unknown } | undefined
  if (typeof body?.code !== 'string' || (body.language !== undefined && typeof body.language !== 'string')) {
    return Response.json({ error: 'expected a JSON body { code: string, language?: string }' }, { status: 400 })
  }
  // An unknown language is refused by runCode itself (invalid_input, answered 400 below).
  const { code, language = 'python' } = body as { code: string; language?: Language }
  const imageId = typeof env.AGB_IMAGE_ID === 'string' ? env.AGB_IMAGE_ID : 'agb-code-space-1'
  try {
    const result = await withSession(client, { imageId }, (session) => runCode(client, session, code, { language }))
    // The code's own failure (an exception) is data: `error` is { name, value, traceback }.
    return Response.json({ stdout: result.stdout, stderr: result.stderr, text: result.text ?? null, error: result.error ?? null })
  } catch (error) {
    if (!isAgbError(error)) throw error
    // An unknown language is the caller's mistake (400); a refused key, a timeout ... are not (502).
    // AgbError messages never contain the key.
    return Response.json({ error: error.message, code: error.code }, { status: isAgbError(error, 'invalid_input') ? 400 : 502 })
  }
}

// Run directly (tsx / node, deno, bun): serve the handler on 127.0.0.1. Never runs when the file is
// imported or bundled into a Worker (no `process` there, and `import.meta.filename` differs).
const proc = globalThis.process
if (proc?.argv?.[1] !== undefined && import.meta.filename === proc.argv[1]) {
  const { createServer } = proc.getBuiltinModule('node:http') as typeof import('node:http')
  const server = createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req.setEncoding('utf8')) body += chunk
    const request = new Request(new URL(req.url ?? '/', 'http://127.0.0.1'), { method: req.method, ...(body ? { body } : {}) })
    const response = await handler(request, proc.env).catch((error: Error) => Response.json({ error: error.message }, { status: 500 }))
    res.writeHead(response.status, Object.fromEntries(response.headers)).end(await response.text())
  })
  server.listen(Number(proc.env.PORT ?? 8788), '127.0.0.1', () => {
    const address = server.address()
    console.log(`serverless handler listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : ''}`)
  })
}
