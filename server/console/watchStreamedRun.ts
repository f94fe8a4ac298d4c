import type { LocalConfig } from '../config.ts'
import type { Session } from '../sessions/Session.ts'

/** What a watcher gets for one streamed run: each frame's data, in order. */
export type StreamedRunWatcher = (session: Session, run: { language: string; code: string }) => (data: Record<string, unknown>) => void

/** The console's watcher of each AGB Local (keyed by its config object). */
export const streamedRunWatchers = new WeakMap<LocalConfig, StreamedRunWatcher>()

/**
 * The `send` of a WebSocket `run_code` run, also shown to the console (its timeline and live
 * output) when the AGB Local has one; else `options.send` itself.
 */
export function watchStreamedRun(config: LocalConfig, session: Session, options: { language: string; code: string; send: (data: Record<string, unknown>) => void }): (data: Record<string, unknown>) => void {
  const watcher = streamedRunWatchers.get(config)
  if (!watcher) return options.send
  const watch = watcher(session, { language: options.language, code: options.code })
  return (data) => {
    watch(data)
    options.send(data)
  }
}
