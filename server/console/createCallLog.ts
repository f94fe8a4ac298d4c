import { AsyncLocalStorage } from 'node:async_hooks'
import type { CallEntry } from './CallEntry.ts'
import { summarizeArgs } from './summarizeArgs.ts'

const MAX_ENTRIES = 500
/** Request bodies larger than this are not parsed for the timeline (tool name found by a scan). */
const MAX_PARSED_BODY = 1024 * 1024
const MAX_OUTPUT = 4000
const MAX_ERROR = 400
const LINK_CALL = /^\/link\/([^/]+)\/callTool$/
/** Answers worth reading for the timeline: the API's JSON envelopes, never object downloads. */
const ENVELOPE_PATHS = /^\/(mcp|sdk|link|browser|internet)(\/|$)/

/** What the current request carries for the log (set by {@link CallLog.wrap} via AsyncLocalStorage). */
interface RequestMark {
  source: CallEntry['source']
  fault?: string
}

/** The console's record of calls, with live listeners and request counters. */
export interface CallLog {
  /** Wraps the API handler: every request is recorded when its answer (or failure) is known. */
  wrap(handler: (req: Request) => Promise<Response>): (req: Request) => Promise<Response>
  /** Runs `fn` with requests it makes through the wrapped handler marked as the console's own. */
  asConsole<T>(fn: () => Promise<T>): Promise<T>
  /** Called by the fault store when a fault answers the current request. */
  markFault(kind: string): void
  /** Adds an entry made elsewhere (a run started in the console). */
  add(entry: Omit<CallEntry, 'seq'>): CallEntry
  /** Newest last. */
  entries(): CallEntry[]
  subscribe(listener: (entry: CallEntry) => void): () => void
  /** Requests per second over the last 5 s, errors and injected faults since start. */
  stats(): { requestsPerSecond: number; requests: number; errors: number; faults: number }
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…[${text.length - max} more characters]` : text
}

async function readCapped(req: Request, cap: number): Promise<string | undefined> {
  if (!req.body) return ''
  const reader = req.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.length
      if (size > cap) return undefined
      chunks.push(value)
    }
  } finally {
    void reader.cancel().catch(() => {})
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

function field(text: string, name: string): string | undefined {
  const m = new RegExp(`"${name}"\\s*:\\s*"([^"\\\\]{1,200})"`).exec(text.slice(0, 65536))
  return m?.[1]
}

/**
 * Creates the console's call log. `redact` is applied to every entry before it is kept, so no
 * secret reaches a listener. The wrapped handler reads a copy of tool-call bodies only after the
 * API answered (a request refused before its body was read leaves the copy unread), and the
 * answer's envelope through a copy, never delaying the answer.
 */
export function createCallLog(redact: (text: string) => string): CallLog {
  const entries: CallEntry[] = []
  const listeners = new Set<(entry: CallEntry) => void>()
  const marks = new AsyncLocalStorage<RequestMark>()
  const recent: number[] = []
  let seq = 0
  let requests = 0
  let errors = 0
  let faults = 0

  function add(entry: Omit<CallEntry, 'seq'>): CallEntry {
    const kept = JSON.parse(redact(JSON.stringify({ seq: ++seq, ...entry }))) as CallEntry
    requests++
    if (!kept.ok) errors++
    const now = Date.now()
    recent.push(now)
    while (recent.length && recent[0]! < now - 5000) recent.shift()
    entries.push(kept)
    if (entries.length > MAX_ENTRIES) entries.splice(0, entries.length - MAX_ENTRIES)
    for (const listener of listeners) listener(kept)
    return kept
  }

  async function describeRequest(copy: Request | undefined, url: URL) {
    const info: { tool?: string; args?: string; sessionId?: string } = {}
    const query = url.searchParams.get('sessionId')
    if (query) info.sessionId = query
    const link = LINK_CALL.exec(url.pathname)
    if (link) info.sessionId = decodeURIComponent(link[1]!)
    if (!copy) return info
    const text = await readCapped(copy, MAX_PARSED_BODY).catch(() => undefined)
    const toolKey = link ? 'tool' : url.pathname === '/mcp' ? 'name' : undefined
    if (text === undefined) return info // over the cap: the route saw it; the console only needs the gist
    try {
      const body = JSON.parse(text) as Record<string, unknown>
      if (toolKey && typeof body[toolKey] === 'string') info.tool = body[toolKey] as string
      if (typeof body.sessionId === 'string') info.sessionId = body.sessionId
      if (toolKey && body.args !== undefined) info.args = summarizeArgs(body.args)
    } catch {
      const tool = toolKey && field(text, toolKey)
      if (tool) info.tool = tool
      info.sessionId ??= field(text, 'sessionId')
    }
    return info
  }

  /** The outcome from an envelope answer (`copy` is a clone of it, or undefined when not one). */
  async function describeAnswer(res: Response, copy: Response | undefined, path: string) {
    const out: { ok: boolean; requestId?: string; error?: string; resultText?: string; sessionId?: string } = { ok: res.status < 400 }
    const requestId = res.headers.get('x-request-id')
    if (requestId) out.requestId = requestId
    if (!copy) return out
    const text = await copy.text().catch(() => '')
    let doc: Record<string, any>
    try {
      doc = JSON.parse(text)
    } catch {
      return { ...out, ok: false, error: cut(`answer is not JSON: ${text}`, MAX_ERROR) }
    }
    if (doc && typeof doc === 'object' && typeof doc.requestId === 'string') out.requestId = doc.requestId
    if (doc?.success === false) return { ...out, ok: false, error: cut(`${doc.code ?? ''}: ${doc.message ?? ''}`, MAX_ERROR) }
    // A linkUrl call answers {data: "<JSON {result}>"}; /mcp answers {data: {isError, content}}.
    let data = doc?.data
    if (typeof data === 'string') {
      try {
        data = JSON.parse(data)?.result ?? data
      } catch {}
    }
    if (typeof data?.sessionId === 'string' && path === '/mcp/createSession') out.sessionId = data.sessionId
    const resultText = Array.isArray(data?.content) ? data.content.map((c: { text?: unknown }) => (typeof c?.text === 'string' ? c.text : '')).join('\n') : undefined
    if (data?.isError === true) return { ...out, ok: false, error: cut(resultText ?? 'tool error', MAX_ERROR) }
    if (resultText !== undefined) out.resultText = resultText
    return out
  }

  return {
    wrap(handler) {
      return async (req) => {
        if (req.method === 'OPTIONS') return handler(req)
        const url = new URL(req.url)
        const at = Date.now()
        const started = performance.now()
        // The API's JSON bodies name the tool and the session (object uploads go elsewhere: /oss/).
        const copy = req.method === 'POST' && ENVELOPE_PATHS.test(url.pathname) ? req.clone() : undefined
        const mark: RequestMark = { source: marks.getStore()?.source ?? 'api' }
        const base = { at, source: mark.source, method: req.method, path: url.pathname }
        let res: Response
        try {
          res = await marks.run(mark, () => handler(req))
        } catch (e) {
          const durationMs = Math.round(performance.now() - started)
          void copy?.body?.cancel().catch(() => {})
          void describeRequest(undefined, url).then((info) => add({ ...base, ...info, durationMs, status: 0, ok: false,
            error: 'no answer: the connection was dropped or the client went away', ...(mark.fault ? { fault: mark.fault } : {}) }))
          throw e
        }
        const durationMs = Math.round(performance.now() - started)
        // A body the API did not read in full (a refused request, one over the size cap) is not
        // read for the console either: an unauthenticated sender must not make AGB Local take its bytes.
        const readable = req.bodyUsed && res.status !== 413
        if (!readable) void copy?.body?.cancel().catch(() => {})
        const request = describeRequest(readable ? copy : undefined, url)
        // Only JSON envelopes are copied: an unread copy of a large download would be buffered whole.
        const isEnvelope = ENVELOPE_PATHS.test(url.pathname) && /json/.test(res.headers.get('content-type') ?? '')
        const answer = describeAnswer(res, isEnvelope ? res.clone() : undefined, url.pathname)
        void Promise.all([request, answer]).then(([info, { resultText, ...outcome }]) => {
          const output = outcome.ok && resultText !== undefined && (info.tool === 'run_code' || info.tool === 'shell') ? { output: cut(resultText, MAX_OUTPUT) } : {}
          add({ ...base, ...info, ...outcome, ...output, sessionId: info.sessionId ?? outcome.sessionId, durationMs, status: res.status, ...(mark.fault ? { fault: mark.fault } : {}) })
        })
        return res
      }
    },
    asConsole: (fn) => marks.run({ source: 'console' }, fn),
    markFault(kind) {
      faults++
      const mark = marks.getStore()
      if (mark) mark.fault = kind
    },
    add,
    entries: () => [...entries],
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    stats() {
      const now = Date.now()
      return { requestsPerSecond: recent.filter((t) => t >= now - 5000).length / 5, requests, errors, faults }
    },
  }
}
