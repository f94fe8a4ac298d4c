import type { Client } from '../client.ts'
import { AgbError } from '../errors.ts'
import { apiKeys } from './apiKeys.ts'
import type { Call } from './deadline.ts'
import { statusCode } from './envelope.ts'
import { redact, truncate } from './redact.ts'
import { untilAborted } from './sleep.ts'
import { transportError } from './transportError.ts'

/** A URL safe for messages: a presigned URL's query is its signature, so it is left out. */
const bare = (url: string) => url.replace(/[?#].*$/, '')

/**
 * A bare request to a presigned URL: no API key, no extra headers (they would break the
 * signature), only the `content-type` the caller asked for.
 */
export async function presignedFetch(
  client: Client,
  url: string,
  init: { method: 'PUT' | 'GET'; body?: BodyInit; contentType?: string; call: Call },
  ok: (status: number) => boolean,
): Promise<Response> {
  const what = `${init.method} ${bare(url)}`
  const { signal } = init.call
  let response: Response
  try {
    response = await untilAborted(signal, (client.fetch ?? globalThis.fetch)(url, {
      method: init.method,
      ...(init.body !== undefined ? { body: init.body } : {}),
      ...(init.contentType ? { headers: { 'content-type': init.contentType } } : {}),
      signal,
      // Stream bodies need `duplex`; and `redirect: 'error'` keeps Node's fetch from teeing the
      // body to replay it on a redirect, which held the whole upload in memory (undici#4058).
      // A stream cannot be replayed anyway.
      ...(init.body instanceof ReadableStream ? { duplex: 'half', redirect: 'error' } : {}),
    } as RequestInit))
  } catch (error) {
    throw transportError(error, init.call, what)
  }
  if (!ok(response.status)) {
    const text = redact(await untilAborted(signal, response.text()).catch(() => ''), apiKeys.get(client))
    const status = response.status
    throw new AgbError(statusCode(status), `${init.call.op}: ${truncate(text, 200) || '(empty body)'} (${what}, HTTP ${status})`, { status, retryable: status === 429 || status >= 500 })
  }
  return response
}
