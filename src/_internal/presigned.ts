import type { Client } from '../client.ts'
import { AgbError } from '../errors.ts'
import { redact, transportError, truncate, untilAborted } from './request.ts'

/** A URL safe for messages: a presigned URL's query is its signature, so it is left out. */
const bare = (url: string) => url.replace(/[?#].*$/, '')

/**
 * A bare request to a presigned URL: no API key, no extra headers (they would break the
 * signature), only the `content-type` the caller asked for.
 */
export async function presignedFetch(
  client: Client,
  url: string,
  init: { method: 'PUT' | 'GET'; body?: BodyInit; contentType?: string; signal: AbortSignal },
  ok: (status: number) => boolean,
): Promise<Response> {
  const label = `[${init.method} ${bare(url)}]`
  let response: Response
  try {
    response = await untilAborted(init.signal, (client.fetch ?? globalThis.fetch)(url, {
      method: init.method,
      ...(init.body !== undefined ? { body: init.body } : {}),
      ...(init.contentType ? { headers: { 'content-type': init.contentType } } : {}),
      signal: init.signal,
      // Stream bodies need `duplex`; and `redirect: 'error'` keeps Node's fetch from teeing the
      // body to replay it on a redirect, which held the whole upload in memory (undici#4058).
      // A stream cannot be replayed anyway.
      ...(init.body instanceof ReadableStream ? { duplex: 'half', redirect: 'error' } : {}),
    } as RequestInit))
  } catch (error) {
    throw transportError(error, init.signal, label)
  }
  if (!ok(response.status)) {
    const text = redact(await untilAborted(init.signal, response.text()).catch(() => ''), client.apiKey)
    const status = response.status
    const code = status === 401 || status === 403 ? 'unauthorized' : status === 404 ? 'not_found' : status === 429 ? 'rate_limited' : status >= 500 ? 'server_error' : 'api_error'
    throw new AgbError(code, `${label} HTTP ${status}: ${truncate(text, 200) || '(empty body)'}`, { status, retryable: status === 429 || status >= 500 })
  }
  return response
}
