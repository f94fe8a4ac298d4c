import type { FetchLike } from '../../src/index.ts'

/** A tool answer as AGB Local sent it: `data` of the `/mcp` envelope. */
export interface ToolData {
  isError: boolean
  content: Array<{ type: string; text: string }>
  [key: string]: unknown
}

/**
 * A misbehaving AGB: AGB Local really runs every request, then the answer of each call of
 * `tool` is rewritten by `rewrite` before the client sees it — for answers the real service may
 * send but AGB Local does not (another JSON shape, an `errorCode` beside `exit_code`, ...).
 * Use it as a client's `fetch`.
 */
export function rewriteToolAnswers(fetch: FetchLike, tool: string, rewrite: (data: ToolData) => ToolData): FetchLike {
  return async (input, init) => {
    const request = new Request(input, init)
    const url = new URL(request.url)
    const body = request.method === 'POST' ? await request.clone().text() : ''
    const response = await fetch(request)
    if (url.pathname !== '/mcp') return response
    let name: unknown
    try {
      name = (JSON.parse(body) as { name?: unknown }).name
    } catch {
      return response
    }
    if (name !== tool) return response
    const envelope = (await response.json()) as { data: ToolData }
    envelope.data = rewrite(envelope.data)
    const headers = new Headers(response.headers)
    headers.delete('content-length')
    return new Response(JSON.stringify(envelope), { status: response.status, headers })
  }
}
