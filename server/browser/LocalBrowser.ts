import type { WebSocket } from 'ws'

/** A page screenshot as the `screenshot` tool returns it. */
export interface PageScreenshot {
  /** Base64 image bytes. */
  data: string
  mimeType: 'image/png' | 'image/jpeg'
  width?: number
  height?: number
}

/**
 * The headless Chromium of one browser-use session, running inside the session's sandbox and
 * spoken to over its DevTools pipe. One CDP client at a time is relayed to it (the getCdpLink
 * URL); AGB Local's own commands (screenshots) share the pipe under ids of their own.
 */
export interface LocalBrowser {
  /** Random path component of the CDP URL: whoever knows it may drive this browser. */
  readonly secret: string
  /** Whether the browser process is still running. */
  readonly running: boolean
  /** Whether a CDP client is connected now. */
  readonly clientConnected: boolean
  /**
   * Relays a CDP client (an accepted WebSocket) to the browser until either side goes away.
   * When it leaves, the targets it attached to are detached, so the next client starts clean.
   * @returns false (and leaves `ws` alone) when another client is already connected
   */
  attachClient(ws: WebSocket): boolean
  /** Screenshot of the page the client drove last (else the first page), brought to the front if it was in the background. */
  screenshot(format: 'png' | 'jpeg'): Promise<PageScreenshot>
  /** Closes the browser (Browser.close, then SIGKILL) and the relayed client; idempotent. */
  stop(reason: string): Promise<void>
}
