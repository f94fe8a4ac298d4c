// A Cloudflare Worker that keeps AGB sessions across requests, the serverless way: one request
// creates a session and stores its id in KV; a later request (any isolate, any machine) reads
// the id back, re-attaches with attachSession and runs code. Only the id is shared.
//
//   POST   /sessions               {"name":"demo"}   create a session, store its id under "demo"
//   POST   /sessions/demo/run      body: the code    run it (?language=javascript; default python)
//   DELETE /sessions/demo                            delete the session and forget it
import { attachSession, clientFromEnv, createSession, deleteSession, isAgbError, runCode, type Language } from 'agb-micro'

// A `type`, not an `interface`: clientFromEnv takes a Record<string, unknown>.
export type Env = {
  /** A secret: `wrangler secret put AGB_API_KEY`. */
  AGB_API_KEY: string
  AGB_ENDPOINT?: string
  AGB_IMAGE_ID?: string
  /** Session ids by name. */
  SESSIONS: KVNamespace
}

/** The part of Workers' `KVNamespace` used here (the full type: `wrangler types`). */
interface KVNamespace {
  get(key: string): Promise<string | null>
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>
  delete(key: string): Promise<void>
}

/** Seconds of inactivity after which AGB releases a forgotten session; KV forgets a day later. */
const IDLE_RELEASE_SECONDS = 600
const json = (body: unknown, status = 200) => Response.json(body, { status })

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url)
    const [root, name, action, ...rest] = url.pathname.slice(1).split('/')
    if (root !== 'sessions' || rest.length) return json({ error: 'not found' }, 404)
    const client = clientFromEnv(env)
    try {
      if (request.method === 'POST' && !name) {
        const body = (await request.json().catch(() => undefined)) as { name?: unknown } | null | undefined
        const key = body?.name ?? crypto.randomUUID()
        if (typeof key !== 'string' || !/^[\w.-]{1,64}$/.test(key)) return json({ error: 'name must be 1-64 letters, digits, _ . -' }, 400)
        if (await env.SESSIONS.get(key)) return json({ error: `a session named ${key} exists` }, 409)
        const session = await createSession(client, {
          imageId: env.AGB_IMAGE_ID ?? 'agb-code-space-1',
          labels: { app: 'agb-worker-example', name: key },
          idleReleaseTimeout: IDLE_RELEASE_SECONDS,
        })
        await env.SESSIONS.put(key, session.id, { expirationTtl: IDLE_RELEASE_SECONDS + 86_400 })
        return json({ name: key, id: session.id }, 201)
      }

      const id = name ? await env.SESSIONS.get(name) : null
      if (!name || !id) return json({ error: `no session named ${name ?? ''}` }, 404)

      if (request.method === 'POST' && action === 'run') {
        // A handle from the stored id, without any request (runCode also takes the bare id).
        const session = attachSession(client, id)
        // An unknown language is refused by runCode itself (invalid_input).
        const language = (url.searchParams.get('language') ?? 'python') as Language
        const result = await runCode(client, session, await request.text(), { language })
        return json({ name, id, stdout: result.stdout, stderr: result.stderr, text: result.text ?? null, error: result.error ?? null })
      }
      if (request.method === 'DELETE' && !action) {
        await deleteSession(client, id)
        await env.SESSIONS.delete(name)
        return json({ name, id, deleted: true })
      }
      return json({ error: 'method not allowed' }, 405)
    } catch (error) {
      if (!isAgbError(error)) throw error
      if (isAgbError(error, 'session_not_found') && name) {
        await env.SESSIONS.delete(name) // expired or deleted elsewhere: forget it
        return json({ error: `session ${name} is gone`, code: error.code }, 410)
      }
      return json({ error: error.message, code: error.code }, isAgbError(error, 'invalid_input') ? 400 : 502)
    }
  },
}
