import { imageKind } from '../browser/imageKind.ts'
import { browserOf } from '../browser/sessionBrowsers.ts'
import { fail, ok } from '../http/envelope.ts'
import type { Route } from './Route.ts'
import { sessionNotFound } from './sessionNotFound.ts'

/**
 * `POST /internet/getCdpLink?sessionId=` (§3.10): `data.url`, the DevTools WebSocket URL of the
 * session's browser (started by `/browser/init`): `ws://<host>/cdp/<sessionId>/devtools/browser/<secret>`,
 * relayed by `serve()` to the Chromium in the sandbox, so `chromium.connectOverCDP(url)` drives
 * it. A session without a browser gets a failure that says why, never a URL where nothing listens.
 */
export const getCdpLinkRoute: Route = {
  method: 'POST',
  path: '/internet/getCdpLink',
  auth: 'apiKey',
  run(ctx) {
    const session = ctx.store.live(ctx.url.searchParams.get('sessionId') ?? '')
    if (!session) return sessionNotFound(ctx.requestId)
    if (imageKind(session.imageId) !== 'browser') {
      return fail(ctx.requestId, 400, 'InvalidRequest', `getCdpLink: session ${session.id} runs image ${session.imageId}, which has no browser; create the session with imageId agb-browser-use-1`)
    }
    const browser = browserOf(session)
    if (!browser) return fail(ctx.requestId, 400, 'BrowserNotStarted', `getCdpLink: the browser of session ${session.id} is not running; start it with POST /browser/init (initBrowser) first`)
    ctx.store.touch(session)
    const origin = ctx.url.origin.replace(/^http/, 'ws')
    return ok(ctx.requestId, { url: `${origin}/cdp/${encodeURIComponent(session.id)}/devtools/browser/${browser.secret}` })
  },
}
