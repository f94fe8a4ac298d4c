import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { decode, UrlSchema } from '../_internal/decode.ts'
import { api } from '../_internal/transport.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { requestOptions, clientOf } from '../_internal/check.ts'

/**
 * Gets the Chrome DevTools Protocol URL of a browser session (`POST /internet/getCdpLink`),
 * e.g. to drive it with Playwright's `connectOverCDP`. Browser images only.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param options - `signal`, `timeout`.
 * @returns The `ws://…/devtools/browser/…` URL.
 * @throws AgbError `session_not_found`, `api_error` (not a browser image), ...
 * @example
 * ```ts
 * const browser = await chromium.connectOverCDP(await getCdpLink(client, session))
 * ```
 */
export async function getCdpLink(client: Client, session: SessionRef, options?: RequestOptions): Promise<string> {
  const envelope = await withDeadline('getCdpLink', requestOptions(options), clientOf(client).timeout, (call) => api(client, { method: 'POST', path: '/internet/getCdpLink', query: { sessionId: sessionId(session) }, idempotent: true }, call))
  return decode(UrlSchema, envelope.data, envelope)
}
