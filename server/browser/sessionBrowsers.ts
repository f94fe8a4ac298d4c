import type { LocalConfig } from '../config.ts'
import type { Session } from '../sessions/Session.ts'
import { launchBrowser } from './launchBrowser.ts'
import type { LaunchBrowserOptions } from './launchBrowser.ts'
import type { LocalBrowser } from './LocalBrowser.ts'

// Keyed by the session object itself: a released session's browser cannot be found through a
// recycled id, and nothing outlives the session object.
const running = new WeakMap<Session, LocalBrowser>()
const starting = new WeakMap<Session, Promise<LocalBrowser>>()

/** The running browser of a session, if `/browser/init` started one. */
export function browserOf(session: Session): LocalBrowser | undefined {
  const browser = running.get(session)
  return browser?.running ? browser : undefined
}

/**
 * Starts the session's browser, or returns the one already running (concurrent calls share one
 * start). The browser is forgotten when its process exits.
 */
export function startSessionBrowser(config: LocalConfig, session: Session, options: LaunchBrowserOptions): Promise<LocalBrowser> {
  const current = browserOf(session)
  if (current) return Promise.resolve(current)
  let start = starting.get(session)
  if (!start) {
    let browser: LocalBrowser | undefined
    start = launchBrowser(config, session, {
      ...options,
      onExit: () => {
        if (running.get(session) === browser) running.delete(session)
      },
    }).finally(() => starting.delete(session))
    void start.then((b) => {
      browser = b
      if (b.running && session.status === 'RUNNING') running.set(session, b)
      else void b.stop('the session was released while the browser started')
    }, () => {})
    starting.set(session, start)
  }
  return start.then((b) => {
    if (!b.running) throw new Error('the browser stopped right after it started')
    return b
  })
}

/** Stops the session's browser (if any); resolves once its process is gone. */
export async function stopSessionBrowser(session: Session, reason: string): Promise<boolean> {
  const browser = running.get(session) ?? (await starting.get(session)?.catch(() => undefined))
  running.delete(session)
  if (!browser?.running) return false
  await browser.stop(reason)
  return true
}
