import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import { sameSecret } from '../http/checkBearer.ts'
import type { SessionStore } from '../sessions/createSessionStore.ts'
import { refuse } from '../ws/refuse.ts'
import { browserOf } from './sessionBrowsers.ts'

/** Where getCdpLink points: `/cdp/<sessionId>/devtools/browser/<secret>`. */
const CDP_PATH = /^\/cdp\/([^/]+)\/devtools\/browser\/([^/?]+)$/

/** The CDP side of AGB Local: WebSocket upgrades relayed to session browsers. */
export interface CdpGateway {
  /** For `serve()`'s upgrade event. @returns false when the path is not a CDP path (left for others) */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean
  /** Closes every relayed client (1001) and refuses later upgrades. */
  closeAll(): void
}

/**
 * Creates the endpoint behind getCdpLink URLs. The random secret in the path is the only
 * credential (as with a DevTools URL, whoever holds it drives the browser); a wrong secret, an
 * unknown or released session and a stopped browser all get the same 404, so the endpoint
 * tells nothing about other sessions. One client per browser at a time (409 otherwise).
 */
export function createCdpGateway(store: SessionStore): CdpGateway {
  // DevTools messages (screenshots, file uploads) can be large; the browser side caps its own.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024, perMessageDeflate: false })
  const clients = new Set<WebSocket>()
  let closed = false
  return {
    handleUpgrade(req, socket, head) {
      const match = CDP_PATH.exec(new URL(req.url ?? '/', 'http://x').pathname)
      if (!match) return false
      const session = store.live(decodeURIComponent(match[1]!))
      const browser = session && browserOf(session)
      if (closed || !browser || !sameSecret(match[2]!, browser.secret)) {
        refuse(socket, 404, 'NotFound', 'no browser at this DevTools URL: the session was released, its browser stopped, or the URL is wrong (get a fresh one with getCdpLink)')
        return true
      }
      if (browser.clientConnected) {
        refuse(socket, 409, 'Conflict', 'another DevTools client is connected to this browser; AGB Local relays one at a time: disconnect it first')
        return true
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (!browser.attachClient(ws)) return ws.close(1013, 'the browser is busy or stopped')
        clients.add(ws)
        ws.once('close', () => clients.delete(ws))
      })
      return true
    },
    closeAll() {
      closed = true
      for (const ws of clients) ws.close(1001, 'AGB Local is shutting down')
    },
  }
}
