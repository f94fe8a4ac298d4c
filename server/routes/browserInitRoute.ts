import { imageKind } from '../browser/imageKind.ts'
import { startSessionBrowser } from '../browser/sessionBrowsers.ts'
import { fail, ok } from '../http/envelope.ts'
import type { Route, RouteContext } from './Route.ts'
import { BadRequest } from './Route.ts'
import { parseJsonObject } from './parseJsonObject.ts'
import { sessionNotFound } from './sessionNotFound.ts'

/** The official SDKs' default profile directory. */
const DEFAULT_PERSISTENT_PATH = '/tmp/agb_browser_data'

function size(value: unknown, name: string): { width: number; height: number } | undefined {
  if (value === undefined || value === null) return undefined
  const { width, height } = (value ?? {}) as Record<string, unknown>
  const valid = (n: unknown) => Number.isInteger(n) && (n as number) > 0 && (n as number) <= 10_000
  if (!valid(width) || !valid(height)) throw new BadRequest(`browserOption.${name} must be {width, height} in pixels (1-10000)`)
  return { width: width as number, height: height as number }
}

/**
 * The `browserOption` keys AGB Local applies: userAgent, viewport (else screen), cmdArgs,
 * defaultNavigateUrl. The service-side ones (useStealth, fingerprint*, solveCaptchas, proxies,
 * extensionPath, browserType, behaviorSimulate) are accepted and have no effect.
 */
function browserOption(ctx: RouteContext) {
  const o = parseJsonObject(ctx.url.searchParams.get('browserOption'), 'browserOption must be a JSON object')
  if (o.userAgent !== undefined && typeof o.userAgent !== 'string') throw new BadRequest('browserOption.userAgent must be a string')
  if (o.cmdArgs !== undefined && !(Array.isArray(o.cmdArgs) && o.cmdArgs.every((a) => typeof a === 'string' && a.startsWith('--')))) {
    throw new BadRequest('browserOption.cmdArgs must be a list of --switches')
  }
  // Any scheme (the browser is sandboxed), but a URL, never something Chromium would read as a switch.
  if (o.defaultNavigateUrl && !(typeof o.defaultNavigateUrl === 'string' && /^[a-z][a-z0-9+.-]*:/i.test(o.defaultNavigateUrl))) {
    throw new BadRequest('browserOption.defaultNavigateUrl must be a URL such as https://example.com')
  }
  const viewport = size(o.viewport, 'viewport') ?? size(o.screen, 'screen')
  return {
    ...(o.userAgent ? { userAgent: o.userAgent as string } : {}),
    ...(viewport ? { viewport } : {}),
    ...(o.cmdArgs ? { extraArgs: o.cmdArgs as string[] } : {}),
    ...(o.defaultNavigateUrl ? { startUrl: o.defaultNavigateUrl as string } : {}),
  }
}

/**
 * `POST /browser/init?sessionId=&persistentPath=&browserOption=` (browser-use images): starts
 * the session's headless Chromium inside its sandbox (or finds it running) and answers
 * `data.port`, the port AGB Local serves the DevTools relay on (getCdpLink gives the URL).
 */
export const browserInitRoute: Route = {
  method: 'POST',
  path: '/browser/init',
  auth: 'apiKey',
  async run(ctx) {
    const q = ctx.url.searchParams
    const session = ctx.store.live(q.get('sessionId') ?? '')
    if (!session) return sessionNotFound(ctx.requestId)
    if (imageKind(session.imageId) !== 'browser') {
      return fail(ctx.requestId, 400, 'InvalidRequest', `browser/init: session ${session.id} runs image ${session.imageId}, which has no browser; create the session with imageId agb-browser-use-1`)
    }
    const options = browserOption(ctx)
    ctx.store.touch(session)
    session.activeCalls++ // never idle-released while its browser starts
    try {
      await startSessionBrowser(ctx.config, session, {
        userDataDir: q.get('persistentPath') || DEFAULT_PERSISTENT_PATH,
        ...options,
        onActivity: () => ctx.store.touch(session),
      })
    } catch (e) {
      // Chromium's messages may name host paths of the session: show them as the sandbox does.
      const message = (e as Error).message.replaceAll(`${session.rootDir}/`, '/').replaceAll(session.dir, '<session>')
      return fail(ctx.requestId, 500, 'BrowserStartFailed', `browser/init: ${message}`)
    } finally {
      session.activeCalls--
      ctx.store.touch(session)
    }
    const port = Number(ctx.url.port || (ctx.url.protocol === 'https:' ? 443 : 80))
    return ok(ctx.requestId, { port })
  },
}
