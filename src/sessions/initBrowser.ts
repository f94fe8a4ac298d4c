import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { decode } from '../_internal/decode.ts'
import { api } from '../_internal/transport.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { requestOptionEntries, validate } from '../_internal/validate.ts'
import { clientOf } from '../_internal/check.ts'

/** Browser settings sent as `browserOption` (all optional; other keys are passed through as given). */
export interface BrowserOption {
  /** User-Agent header of every page. */
  userAgent?: string
  /** Page viewport in CSS pixels. */
  viewport?: { width: number; height: number }
  /** Screen size in pixels. */
  screen?: { width: number; height: number }
  /** Extra Chromium command-line switches. */
  cmdArgs?: string[]
  /** The page the browser opens first. */
  defaultNavigateUrl?: string
  /** Service-side stealth mode (no effect in AGB Local). */
  useStealth?: boolean
  /** Service-side CAPTCHA solving (no effect in AGB Local). */
  solveCaptchas?: boolean
  [key: string]: unknown
}

/** Options for {@link initBrowser}. */
export interface InitBrowserOptions extends RequestOptions {
  /** Where the browser keeps its profile inside the sandbox. Default `/tmp/agb_browser_data` (the official SDKs' default). */
  persistentPath?: string
  /** Browser settings (`browserOption`). Default: none sent. */
  browserOption?: BrowserOption
}

/** What {@link initBrowser} returns. */
export interface InitBrowserResult {
  /** The port the service reports for the browser's DevTools endpoint (connect with the URL from `getCdpLink`). */
  port: number
}

const InitBrowserOptionsSchema = v.object({
  persistentPath: v.optional(v.pipe(v.string('persistentPath must be a string'), v.trim(), v.nonEmpty('persistentPath must not be empty'))),
  browserOption: v.optional(v.record(v.string(), v.unknown(), 'browserOption must be an object')),
  ...requestOptionEntries,
})

/** A missing or non-numeric port is a failure in both official SDKs. */
const InitBrowserSchema = v.looseObject({ port: v.pipe(v.number('port must be a number'), v.integer('port must be whole')) })

/**
 * Starts the browser of a browser-use session (`POST /browser/init`, images such as
 * `agb-browser-use-1`); calling it again while the browser runs is harmless. Then get the
 * DevTools URL with {@link getCdpLink} and drive the browser with Playwright's
 * `chromium.connectOverCDP(url)`.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param options - `persistentPath`, `browserOption`, `signal`, `timeout`.
 * @returns The reported DevTools port.
 * @throws AgbError `invalid_input` for bad options; `api_error` (the image has no browser, the browser did not start); `session_not_found`, `invalid_response` (no port), ...
 * @example
 * ```ts
 * const session = await createSession(client, { imageId: 'agb-browser-use-1' })
 * await initBrowser(client, session, { browserOption: { viewport: { width: 1280, height: 800 } } })
 * const browser = await chromium.connectOverCDP(await getCdpLink(client, session))
 * ```
 */
export async function initBrowser(client: Client, session: SessionRef, options?: InitBrowserOptions): Promise<InitBrowserResult> {
  const id = sessionId(session)
  const o = validate(InitBrowserOptionsSchema, options ?? {}, 'options')
  const query = {
    sessionId: id,
    persistentPath: o.persistentPath ?? '/tmp/agb_browser_data',
    browserOption: o.browserOption ? JSON.stringify(o.browserOption) : undefined,
  }
  const envelope = await withDeadline('initBrowser', o, clientOf(client).timeout, (call) => api(client, { method: 'POST', path: '/browser/init', query }, call))
  const { port } = decode(InitBrowserSchema, envelope.data, envelope)
  return { port }
}
