import { randomBytes } from 'node:crypto'
import type { WebSocket } from 'ws'
import type { LocalConfig } from '../config.ts'
import { processPath } from '../sandbox/spawnInSession.ts'
import { logSafe } from '../sandbox/logSafe.ts'
import type { Session } from '../sessions/Session.ts'
import { findChromium } from './findChromium.ts'
import type { LocalBrowser, PageScreenshot } from './LocalBrowser.ts'

/** How to start a session's browser (from `/browser/init`'s `persistentPath` and `browserOption`). */
export interface LaunchBrowserOptions {
  /** Profile directory as the sandbox sees it. */
  userDataDir: string
  userAgent?: string
  /** Window size, CSS pixels. Default 1280×800. */
  viewport?: { width: number; height: number }
  /** First page. Default `about:blank`. */
  startUrl?: string
  /** Extra Chromium switches (`browserOption.cmdArgs`): they only affect the sandboxed browser. */
  extraArgs?: string[]
  /** Called on every command a CDP client sends (keeps the session from going idle). */
  onActivity?: () => void
  /** Called once the browser process has exited, whatever the reason. */
  onExit?: () => void
}

/** Generous: the first start on a busy 2-core machine reads a 300 MB binary. */
const START_TIMEOUT_MS = 90_000
const COMMAND_TIMEOUT_MS = 30_000
/** A single DevTools message larger than this (a runaway page) stops the browser. */
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024
const STDERR_TAIL = 4000
/** A client this far behind (unsent bytes) is cut off: a page must not grow AGB Local's memory without bound. */
const MAX_CLIENT_BACKLOG = 256 * 1024 * 1024

// Inside the sandbox (so nothing is written from the host into the session's files): a
// fontconfig file for /usr/share/fonts (the host's /etc/fonts is not in the sandbox), then
// Chromium with its DevTools pipe (reads fd 3, writes fd 4) on the process's stdin/stdout.
const WRAPPER = 'if [ -n "$AGB_FONTS_CONF" ]; then d="${TMPDIR:-/tmp}/.agb-local-browser"; mkdir -p "$d" && printf "%s\\n" "$AGB_FONTS_CONF" > "$d/fonts.conf" && export FONTCONFIG_FILE="$d/fonts.conf"; fi; exec "$@" 3<&0 4>&1 0</dev/null 1>&2'
const FONTS_CONF = '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><dir>/usr/share/fonts</dir><cachedir>/tmp/.agb-local-browser/fontcache</cachedir></fontconfig>'

// TOOLCHAIN's headless flags. --no-sandbox: the session's bubblewrap sandbox is the sandbox
// (Chromium's own needs privileges the session does not have).
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--no-default-browser-check',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
  '--disable-breakpad', '--disable-crash-reporter', '--password-store=basic', '--use-mock-keychain', '--mute-audio', '--hide-scrollbars']

interface Pending {
  /** Set for a relayed client command: its own id, and the socket to answer. */
  client?: { ws: WebSocket; id: unknown }
  resolve?: (result: Record<string, unknown>) => void
  reject?: (error: Error) => void
  timer?: NodeJS.Timeout
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(base64: string): { width?: number; height?: number } {
  const head = Buffer.from(base64.slice(0, 32), 'base64')
  return head.length >= 24 ? { width: head.readUInt32BE(16), height: head.readUInt32BE(20) } : {}
}

/**
 * Starts a headless Chromium in the session's sandbox (confined like every process of the
 * session, gone with it) and waits until it answers on its DevTools pipe.
 * @throws Error naming what failed (no Chromium installed, the browser exited or did not answer)
 */
export async function launchBrowser(config: LocalConfig, session: Session, options: LaunchBrowserOptions): Promise<LocalBrowser> {
  const chromium = findChromium()
  if (!chromium) throw new Error('no Chromium found on this machine (looked under /usr/lib); install it, e.g. apt-get install chromium')
  const viewport = options.viewport ?? { width: 1280, height: 800 }
  const argv = ['/bin/sh', '-c', WRAPPER, 'agb-local-browser', chromium, ...FLAGS, `--window-size=${viewport.width},${viewport.height}`,
    `--user-data-dir=${processPath(config, session, options.userDataDir)}`, ...(options.userAgent ? [`--user-agent=${options.userAgent}`] : []),
    ...(options.extraArgs ?? []), '--remote-debugging-pipe', options.startUrl ?? 'about:blank']
  // Plain processes (isolation 'none') see the host's fonts, and their session TMPDIR is too
  // long a path for Chromium's singleton socket (108 bytes at most): they use the host's /tmp.
  const env: Record<string, string> = config.isolation === 'bwrap' ? { AGB_FONTS_CONF: FONTS_CONF } : { TMPDIR: '/tmp' }
  const proc = session.sandbox.spawn({ argv, stdin: true, env })

  const pending = new Map<number, Pending>()
  let nextId = 1
  let client: WebSocket | null = null
  /** Sessions the client attached to: sessionId → target. */
  const clientSessions = new Map<string, { targetId: string; type: string }>()
  /** AGB Local's own target sessions, and targets it is attaching to (their events are not relayed). */
  const ownSessions = new Set<string>()
  const ownAttaching = new Set<string>()
  let lastTarget: string | undefined
  let running = true
  let stderr = ''
  let stopping: Promise<void> | undefined

  let markExited!: () => void
  const exited = new Promise<void>((resolve) => (markExited = resolve))
  proc.on('error', (e: Error) => onExit(`could not start: ${e.message}`))
  proc.on('exit', (code: number | null, signal: string | null) => onExit(signal ? `killed by ${signal}` : `exit code ${code}`))
  proc.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL)
  })
  proc.stdin?.on('error', () => {}) // the browser died: reported by 'exit'

  let exitReason = ''
  function onExit(reason: string): void {
    if (!running) return
    running = false
    exitReason = reason
    for (const [id, p] of pending) {
      if (p.timer) clearTimeout(p.timer)
      p.reject?.(new Error(`the browser stopped (${reason})`))
      pending.delete(id)
    }
    if (client && client.readyState <= client.OPEN) client.close(1011, 'the browser stopped')
    client = null
    markExited()
    options.onExit?.()
  }

  // Messages on the pipe are JSON texts each ended by a NUL byte.
  let chunks: Buffer[] = []
  let size = 0
  proc.stdout.on('data', (chunk: Buffer) => {
    let start = 0
    for (let end = chunk.indexOf(0); end !== -1; end = chunk.indexOf(0, start)) {
      chunks.push(chunk.subarray(start, end))
      const text = Buffer.concat(chunks).toString('utf8')
      chunks = []
      size = 0
      start = end + 1
      fromBrowser(text)
    }
    if (start < chunk.length) {
      chunks.push(chunk.subarray(start))
      size += chunk.length - start
      if (size > MAX_MESSAGE_BYTES) {
        config.log(`AGB Local: the browser of ${session.id} sent a DevTools message over ${MAX_MESSAGE_BYTES} bytes; stopping it`)
        chunks = []
        size = 0
        proc.kill('SIGKILL')
      }
    }
  })

  function toBrowser(message: Record<string, unknown>): void {
    if (running && proc.stdin?.writable) proc.stdin.write(`${JSON.stringify(message)}\0`)
  }

  /** Sends to the client, or cuts it off when it cannot keep up. */
  function toClient(ws: WebSocket, text: string): void {
    if (ws !== client || ws.readyState !== ws.OPEN) return
    if (ws.bufferedAmount > MAX_CLIENT_BACKLOG) return ws.close(1008, 'the DevTools client does not keep up with the browser')
    ws.send(text)
  }

  function fromBrowser(text: string): void {
    let msg: unknown
    try {
      msg = JSON.parse(text)
    } catch {
      return
    }
    if (!isObject(msg)) return
    if (typeof msg.id === 'number') {
      const p = pending.get(msg.id)
      if (!p) return
      pending.delete(msg.id)
      if (p.timer) clearTimeout(p.timer)
      if (p.client) {
        toClient(p.client.ws, JSON.stringify({ ...msg, id: p.client.id }))
      } else if (isObject(msg.error)) p.reject?.(new Error(String(msg.error.message ?? 'DevTools error')))
      else p.resolve?.(isObject(msg.result) ? msg.result : {})
      return
    }
    if (typeof msg.sessionId === 'string' && ownSessions.has(msg.sessionId)) return
    const params = isObject(msg.params) ? msg.params : {}
    if (msg.method === 'Target.attachedToTarget' && typeof params.sessionId === 'string' && isObject(params.targetInfo)) {
      if (ownSessions.has(params.sessionId) || (msg.sessionId === undefined && ownAttaching.has(params.targetInfo.targetId))) {
        ownSessions.add(params.sessionId)
        return
      }
      clientSessions.set(params.sessionId, { targetId: String(params.targetInfo.targetId), type: String(params.targetInfo.type) })
    }
    if (msg.method === 'Target.detachedFromTarget' && typeof params.sessionId === 'string') {
      if (ownSessions.delete(params.sessionId)) return
      clientSessions.delete(params.sessionId)
    }
    if (client) toClient(client, text)
  }

  function command(method: string, params: Record<string, unknown> = {}, sessionId?: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<Record<string, unknown>> {
    if (!running) return Promise.reject(new Error(`the browser is not running (${exitReason})`))
    return new Promise((resolve, reject) => {
      const id = nextId++
      const timer = setTimeout(() => {
        pending.delete(id)
        reject(new Error(`the browser did not answer ${method} within ${timeoutMs / 1000} s`))
      }, timeoutMs)
      timer.unref()
      pending.set(id, { resolve, reject, timer })
      toBrowser({ id, method, params, ...(sessionId ? { sessionId } : {}) })
    })
  }

  function detachClient(ws: WebSocket): void {
    if (client !== ws) return
    client = null
    for (const [id, p] of pending) if (p.client?.ws === ws) pending.delete(id)
    // What the client attached to (and auto-attach, which pauses new targets) must not outlive it.
    const attached = [...clientSessions.keys()]
    clientSessions.clear()
    if (!running) return
    void command('Target.setAutoAttach', { autoAttach: false, waitForDebuggerOnStart: false, flatten: true }).catch(() => {})
    void command('Target.setDiscoverTargets', { discover: false }).catch(() => {})
    for (const sessionId of attached) void command('Target.detachFromTarget', { sessionId }).catch(() => {})
  }

  function attachClient(ws: WebSocket): boolean {
    if (client || !running) return false
    client = ws
    ws.on('message', (data, isBinary) => {
      if (client !== ws) return
      let msg: unknown
      try {
        msg = JSON.parse(isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString())
      } catch {
        return ws.close(1003, 'DevTools messages are JSON objects')
      }
      if (!isObject(msg) || typeof msg.method !== 'string' || msg.id === undefined) {
        return ws.send(JSON.stringify({ id: isObject(msg) ? msg.id : null, error: { code: -32600, message: 'Message must have integer id and string method' } }))
      }
      if (typeof msg.sessionId === 'string' && ownSessions.has(msg.sessionId)) {
        return ws.send(JSON.stringify({ id: msg.id, error: { code: -32001, message: 'Session with given id not found.' } }))
      }
      const target = typeof msg.sessionId === 'string' ? clientSessions.get(msg.sessionId) : undefined
      if (target?.type === 'page') lastTarget = target.targetId
      options.onActivity?.()
      const id = nextId++
      pending.set(id, { client: { ws, id: msg.id } })
      toBrowser({ ...msg, id })
    })
    ws.on('close', () => detachClient(ws))
    ws.on('error', () => detachClient(ws))
    return true
  }

  async function screenshot(format: 'png' | 'jpeg'): Promise<PageScreenshot> {
    const { targetInfos } = (await command('Target.getTargets')) as { targetInfos?: Array<{ targetId: string; type: string; url: string }> }
    const pages = (targetInfos ?? []).filter((t) => t.type === 'page')
    const target = pages.find((t) => t.targetId === lastTarget) ?? pages.find((t) => t.url !== 'about:blank') ?? pages[0]
    if (!target) throw new Error('the browser has no open page to take a screenshot of')
    ownAttaching.add(target.targetId)
    let sessionId: string
    try {
      sessionId = String((await command('Target.attachToTarget', { targetId: target.targetId, flatten: true })).sessionId)
    } finally {
      ownAttaching.delete(target.targetId)
    }
    ownSessions.add(sessionId)
    try {
      // A background tab renders no frames, so capturing it would wait forever: bring it forward.
      const visibility = await command('Runtime.evaluate', { expression: 'document.visibilityState', returnByValue: true }, sessionId)
      if ((visibility.result as { value?: unknown } | undefined)?.value === 'hidden') await command('Page.bringToFront', {}, sessionId)
      const shot = await command('Page.captureScreenshot', format === 'jpeg' ? { format, quality: 80 } : { format }, sessionId)
      const data = String(shot.data ?? '')
      return { data, mimeType: format === 'jpeg' ? 'image/jpeg' : 'image/png', ...(format === 'png' ? pngSize(data) : {}) }
    } finally {
      void command('Target.detachFromTarget', { sessionId }).catch(() => {})
    }
  }

  function stop(reason: string): Promise<void> {
    stopping ??= (async () => {
      if (!running) return
      config.log(`browser of ${session.id} stopping (${reason})`)
      await command('Browser.close', {}, undefined, 3000).catch(() => {})
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())])
      proc.kill('SIGKILL') // the whole process group: renderers and helpers too
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())])
    })()
    return stopping
  }

  try {
    await command('Browser.getVersion', {}, undefined, START_TIMEOUT_MS)
  } catch (e) {
    proc.kill('SIGKILL')
    // Chromium's stderr runs in the session sandbox: escaped and cut before it reaches a log line.
    const detail = logSafe(stderr.split('\n').filter((l) => l.trim() && !/dbus|Fontconfig/i.test(l)).slice(-5).join('\n'))
    throw new Error(`the browser did not start: ${(e as Error).message}${detail ? ` (${detail})` : ''}`)
  }

  return {
    secret: randomBytes(16).toString('hex'),
    get running() {
      return running
    },
    get clientConnected() {
      return client !== null
    },
    attachClient,
    screenshot,
    stop,
  }
}
