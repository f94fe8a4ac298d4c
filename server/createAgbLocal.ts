import { createCdpGateway } from './browser/createCdpGateway.ts'
import { stopSessionBrowser } from './browser/sessionBrowsers.ts'
import { resolveConfig } from './config.ts'
import { createConsole } from './console/createConsole.ts'
import { createHandler } from './createHandler.ts'
import { createFaults } from './faults/createFaults.ts'
import { createSessionStore } from './sessions/createSessionStore.ts'
import { attachStorage } from './storage/attachStorage.ts'
import type { AgbLocal, AgbLocalOptions, RecordedRequest } from './types.ts'
import { createWsGateway } from './ws/createWsGateway.ts'

/**
 * Creates AGB Local: the AGB cloud sandbox HTTP API on this machine, really executing code in
 * one persistent sandbox per session (bubblewrap when available). Serve it with `serve()` (which
 * adds the session WebSockets) or inject `local.fetch` into a client.
 * @example
 * const local = createAgbLocal()
 * const res = await local.fetch('http://agb.local/mcp/createSession?imageId=agb-code-space-1', {
 *   method: 'POST', headers: { authorization: `Bearer ${local.apiKey}` }, body: '{}' })
 * await local.close()
 */
export function createAgbLocal(options: AgbLocalOptions = {}): AgbLocal {
  const config = resolveConfig(options)
  const store = createSessionStore(config)
  const requests: RecordedRequest[] = []
  const faults = createFaults()
  // The console (unless `console: false`) answers /console/… and records every other request.
  const consoleUi = options.console === false ? undefined : createConsole({ config, store, faults })
  const api = createHandler({ config, store, requests, faults: consoleUi?.faults ?? faults })
  const handler = consoleUi ? consoleUi.wrap(api) : api
  const oss = attachStorage(config, store, handler)
  const gateway = createWsGateway({ config, store, requests })
  store.onRelease((session) => gateway.closeSession(session))
  const cdp = createCdpGateway(store)
  // The sandbox's shutdown kills the browser anyway: this closes its DevTools client first.
  store.onRelease((session) => void stopSessionBrowser(session, 'session released'))
  let closing: Promise<void> | undefined
  return {
    apiKey: config.apiKey,
    handler,
    fetch: (input, init) => handler(new Request(input, init)),
    liveSessions: () => store.liveCount(),
    sessionProcessCount: (sessionId) => store.processCount(sessionId),
    requests,
    oss,
    faults: { add: (spec) => faults.add(spec), clear: () => faults.clear(), pending: () => faults.pending() },
    handleUpgrade: (req, socket, head) => {
      if (!cdp.handleUpgrade(req, socket, head)) gateway.handleUpgrade(req, socket, head)
    },
    servePolicy: Object.freeze({ maxConnections: config.maxConnections, requestTimeoutMs: config.requestTimeoutMs, maxUnsentBytes: config.maxUnsentBytes, allowedHosts: Object.freeze([...config.allowedHosts]), allowSandboxCallers: config.allowSandboxCallers }),
    openSockets: (sessionId) => gateway.openSockets(sessionId),
    dropSockets: (sessionId) => gateway.dropSockets(sessionId),
    consoleLink: (baseUrl) => {
      if (!consoleUi) throw new Error('consoleLink: this AGB Local was created with console: false (the CLI\'s --no-console)')
      return consoleUi.link(baseUrl)
    },
    close: () => {
      faults.closeAll()
      consoleUi?.close()
      gateway.closeAll()
      cdp.closeAll()
      return (closing ??= store.closeAll())
    },
  }
}
