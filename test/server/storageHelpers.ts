import { expect } from 'vitest'

/** Raw-HTTP calls to AGB Local's API with the bearer key, through any fetch and base URL. */
export function storageClient(fetchFn: (input: string, init?: RequestInit) => Promise<Response>, base: string, apiKey: string) {
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }

  async function call(method: 'GET' | 'POST', path: string, query: Record<string, string> = {}, body: unknown = {}) {
    const qs = new URLSearchParams(query).toString()
    const res = await fetchFn(`${base}${path}${qs ? `?${qs}` : ''}`, { method, headers, ...(method === 'POST' ? { body: JSON.stringify(body) } : {}) })
    return { status: res.status, json: (await res.json()) as Record<string, any> }
  }

  const post = (path: string, query?: Record<string, string>, body?: unknown) => call('POST', path, query, body)
  const get = (path: string, query?: Record<string, string>) => call('GET', path, query)

  async function createSession(body: Record<string, unknown> = {}): Promise<string> {
    const res = await post('/mcp/createSession', { imageId: 'agb-code-space-1' }, body)
    const id = res.json.data?.sessionId
    if (typeof id !== 'string') throw new Error(`createSession failed: ${JSON.stringify(res.json)}`)
    return id
  }

  async function tool(sessionId: string, name: string, args: Record<string, unknown>) {
    const res = await post('/mcp', { autoGenSession: 'false' }, { args: JSON.stringify(args), sessionId, name })
    return { text: String(res.json.data?.content?.[0]?.text ?? ''), isError: res.json.data?.isError as boolean, json: res.json }
  }

  async function shell(sessionId: string, command: string) {
    const res = await tool(sessionId, 'shell', { command, timeout_ms: 20_000 })
    return JSON.parse(res.text) as { stdout: string; stderr: string; exit_code: number }
  }

  /** Task items of GetContextInfo (both string levels decoded). */
  async function contextInfo(query: Record<string, string>) {
    const res = await get('/sdk/GetContextInfo', query)
    expect(res.json.success, JSON.stringify(res.json)).toBe(true)
    const groups = JSON.parse(res.json.data.contextStatus) as Array<{ type: string; data: string }>
    return groups.flatMap((g) => JSON.parse(g.data) as Array<Record<string, any>>)
  }

  /** SyncContext, then polls GetContextInfo until the task is finished; returns the item. */
  async function sync(sessionId: string, contextId: string, path: string, mode: 'upload' | 'download') {
    const res = await post('/sdk/SyncContext', { sessionId, contextId, path, mode })
    expect(res.json.success, JSON.stringify(res.json)).toBe(true)
    for (let i = 0; i < 200; i++) {
      const item = (await contextInfo({ sessionId, contextId, path, taskType: mode })).find((t) => t.contextId === contextId && t.path === path)
      if (item && item.status !== 'InProgress') return item
      await new Promise((r) => setTimeout(r, 25))
    }
    throw new Error('sync did not finish')
  }

  return { post, get, createSession, tool, shell, contextInfo, sync }
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v
}

function decodedJson(v: string): unknown {
  if (!/^\s*[[{]/.test(v)) return undefined
  try {
    return JSON.parse(v)
  } catch {
    return undefined
  }
}

/** Every field of `want` exists in `got` with the same type; JSON-in-a-string fields compared decoded. */
export function expectShape(got: unknown, want: unknown, at: string): void {
  expect(kind(got), `type of ${at}`).toBe(kind(want))
  if (typeof want === 'string') {
    const inner = decodedJson(want)
    if (inner !== undefined) expectShape(decodedJson(got as string), inner, `${at} (decoded)`)
  } else if (Array.isArray(want)) {
    if (want.length) expect((got as unknown[]).length, `${at} is not empty`).toBeGreaterThan(0)
    if (want.length && (got as unknown[]).length) expectShape((got as unknown[])[0], want[0], `${at}[0]`)
  } else if (want && typeof want === 'object') {
    for (const [k, v] of Object.entries(want)) {
      expect(got, `${at} has ${k}`).toHaveProperty([k])
      expectShape((got as Record<string, unknown>)[k], v, `${at}.${k}`)
    }
  }
}
