import type { Client } from '../client.ts'
import type { ExecutionError, ExecutionResult, RequestOptions, Session, SessionRef } from '../types.ts'
import { AgbError } from '../errors.ts'
import { openDeadline, type Call } from '../_internal/deadline.ts'
import { toItem } from '../_internal/toItem.ts'
import { remoteBudget } from '../_internal/remoteBudget.ts'
import { sessionId } from '../_internal/sessionId.ts'
import { connect, type Connection } from '../_internal/sessionSocket.ts'
import { toSession } from '../_internal/toSession.ts'
import { api } from '../_internal/transport.ts'
import { transportError } from '../_internal/transportError.ts'
import { invalid, positive, requestOptions, clientOf } from '../_internal/check.ts'
import { language } from '../_internal/language.ts'
import type { RunCodeOptions } from './runCode.ts'
import { toText } from '../_internal/toText.ts'

/** One event of a streamed code run, in the order the sandbox produced them. */
export type CodeEvent =
  | { type: 'stdout'; text: string }
  | { type: 'stderr'; text: string }
  | { type: 'result'; result: ExecutionResult }
  | { type: 'error'; error: ExecutionError }
  | {
      type: 'end'
      /** `finished`, or `failed` when the code raised or timed out. */
      status: string
      executionCount?: number
      /** Seconds. */
      executionTime: number
      /** The invocation id (quote it to support). */
      requestId: string
    }

/** Options for {@link streamCode}. */
export interface StreamCodeOptions extends RequestOptions {
  /** Default `python`; as in `runCode`. */
  language?: RunCodeOptions['language']
  /** Milliseconds the whole run may take. Default 65 000 (the code gets 60 s). */
  timeout?: number
  /**
   * Milliseconds without any frame (output or heartbeat) after which the stream fails with
   * `timeout`: catches half-open connections. Default 45 000.
   */
  idleTimeout?: number
  /** Milliseconds between `keepAlive` calls while the stream is open. Default 60 000. */
  keepAliveInterval?: number
}

/** A stream of {@link CodeEvent}s you can also `for await`. */
export type CodeEventStream = ReadableStream<CodeEvent> & AsyncIterable<CodeEvent>

/**
 * Runs code and streams its output as it happens, over the session's WebSocket:
 * `stdout`/`stderr` chunks, `result`s, an `error` if the code raised, and always a last
 * `end` event — or the stream errors with an `AgbError` (a dropped connection is `network`,
 * never a silent end). Cancelling the stream (or aborting `signal`) stops reading and asks
 * the sandbox to stop the run.
 *
 * Needs a WebSocket that can send the session token header: Deno, Bun, Node 22+ and
 * Workers have one; on Node 20 pass `webSocket` (from `ws`) to `createClient`; browsers go
 * through `agb-micro/proxy`.
 *
 * @param client - The client.
 * @param session - The session (a handle from `createSession`/`getSession` saves a request) or its id.
 * @param code - Source text.
 * @param options - `language`, `timeout`, `idleTimeout`, `keepAliveInterval`, `signal`.
 * @returns A `ReadableStream` of events, also async-iterable.
 * @throws AgbError `invalid_input` (synchronously) for bad arguments; the stream errors with `network`, `timeout`, `aborted`, `unsupported`, ...
 * @example
 * ```ts
 * for await (const e of streamCode(client, session, 'for i in range(3): print(i)')) {
 *   if (e.type === 'stdout') process.stdout.write(e.text)
 * }
 * ```
 */
export function streamCode(client: Client, session: SessionRef, code: string, options?: StreamCodeOptions): CodeEventStream {
  clientOf(client)
  const id = sessionId(session)
  const source = typeof code === 'string' ? code : invalid('code', 'a string')
  const o = requestOptions(options) ?? {}
  positive(o.idleTimeout, 'options.idleTimeout')
  positive(o.keepAliveInterval, 'options.keepAliveInterval')
  const lang = language(o.language)
  const timeout = o.timeout ?? 65_000
  const call = openDeadline('streamCode', o, timeout)
  const { signal } = call
  const label = `streamCode (WebSocket run_code ${id}):`
  const what = `WebSocket run_code ${id}`
  let stop: (() => void) | undefined
  const stream = new ReadableStream<CodeEvent>({
    async start(controller) {
      if (client.proxy) return viaProxy(client, id, source, lang, timeout, call, controller, (cancel) => (stop = cancel))
      let handle: Session
      let connection: Connection
      try {
        handle = await resolveSession(client, session, id, call)
        if (!handle.wsUrl || !handle.token) throw new AgbError('unsupported', `${label} this session has no wsUrl/token: its image does not stream`)
        connection = await connect(client, id, handle.wsUrl, handle.token, signal)
      } catch (error) {
        controller.error(signal.aborted ? transportError(error, call, what) : error)
        return
      }
      const invocationId = crypto.randomUUID().replace(/-/g, '')
      const target = handle.tools.find((t) => t.name === 'run_code')?.server || 'wuying_codespace'
      const frame = (data: Record<string, unknown>) => JSON.stringify({ invocationId, source: 'SDK', target, data: { method: 'run_code', ...data } })
      let done = false
      let sawError = false
      const finish = (then: () => void) => {
        if (done) return
        done = true
        connection.routes.delete(invocationId)
        clearInterval(timers)
        signal.removeEventListener('abort', onAbort)
        then()
      }
      // No cancel frame is documented; AGB Local honours this one, others ignore it [unverified].
      const cancelRemote = () => {
        if (connection.socket.readyState === 1) connection.socket.send(frame({ mode: 'cancel' }))
      }
      stop = () => {
        cancelRemote()
        finish(() => undefined)
      }
      const onAbort = () => {
        cancelRemote()
        finish(() => controller.error(transportError(signal.reason, call, what)))
      }
      const idle = o.idleTimeout ?? 45_000
      const keepAliveEvery = o.keepAliveInterval ?? 60_000
      let lastKeepAlive = Date.now()
      const timers = setInterval(() => {
        const now = Date.now()
        if (now - connection.lastFrame > idle) {
          cancelRemote()
          finish(() => controller.error(new AgbError('timeout', `${label} no data for ${idle} ms (idleTimeout)`, { retryable: true, status: 0 })))
        } else if (now - lastKeepAlive > keepAliveEvery) {
          lastKeepAlive = now
          api(client, { method: 'POST', path: '/mcp/refreshSessionIdleTime', query: { sessionId: id }, idempotent: true }, { op: 'streamCode (keep-alive)', signal: AbortSignal.timeout(10_000), timeout: 10_000 }).catch(() => undefined)
        }
      }, Math.min(1_000, idle / 4))
      ;(timers as { unref?: () => void }).unref?.()
      signal.addEventListener('abort', onAbort, { once: true })
      connection.routes.set(invocationId, (data, closed) => {
        if (closed) return finish(() => controller.error(closed))
        const phase = data?.phase
        if (phase === 'event') {
          const event = toEvent(data!)
          if (event?.type === 'error') sawError = true
          if (event) controller.enqueue(event)
        } else if (phase === 'end') {
          // The end frame repeats an error already sent as an event; report it once.
          if (!sawError && typeof data!.executionError === 'string' && data!.executionError) {
            controller.enqueue({ type: 'error', error: { name: 'ExecutionError', value: data!.executionError, traceback: '' } })
          }
          const count = data!.executionCount
          controller.enqueue({
            type: 'end',
            status: toText(data!.status) || 'finished',
            ...(typeof count === 'number' ? { executionCount: count } : {}),
            executionTime: typeof data!.executionTime === 'number' ? data!.executionTime : 0,
            requestId: invocationId,
          })
          finish(() => controller.close())
        } else if (phase === 'error' || typeof data?.error === 'string') {
          finish(() => controller.error(new AgbError('tool_error', `${label} the sandbox failed the run: ${(toText(data?.error) || 'remote error').slice(0, 300)}`, { requestId: invocationId })))
        } else {
          finish(() => controller.error(new AgbError('invalid_response', `${label} unexpected frame phase ${JSON.stringify(phase)}`, { requestId: invocationId })))
        }
      })
      connection.socket.send(frame({ mode: 'stream', params: { language: lang, timeoutS: Math.max(1, Math.floor(remoteBudget(timeout) / 1000)), code: source } }))
    },
    cancel() {
      stop?.()
    },
  })
  return iterable(stream)
}

/** Some browsers' streams are not async-iterable yet: add the iterator where missing. */
function iterable<T>(stream: ReadableStream<T>): ReadableStream<T> & AsyncIterable<T> {
  if (!(Symbol.asyncIterator in stream)) {
    Object.defineProperty(stream, Symbol.asyncIterator, {
      value: async function* () {
        const reader = (stream as ReadableStream<T>).getReader()
        try {
          for (;;) {
            const { done, value } = await reader.read()
            if (done) return
            yield value
          }
        } finally {
          reader.releaseLock()
        }
      },
    })
  }
  return stream as ReadableStream<T> & AsyncIterable<T>
}

function toEvent(data: Record<string, unknown>): CodeEvent | undefined {
  const type = data.eventType
  if (type === 'stdout' || type === 'stderr') return { type, text: toText(data.chunk) }
  if (type === 'result') {
    // The WebSocket puts the MIME map under `mime` (unlike /mcp).
    const r = (data.result ?? {}) as Record<string, unknown>
    const item = toItem({ ...(r.mime as object), isMainResult: r.isMainResult === true })
    return item && { type: 'result', result: item }
  }
  if (type === 'error') {
    const e = (data.error ?? {}) as Record<string, unknown>
    return { type: 'error', error: { name: toText(e.code) || 'ExecutionError', value: toText(e.message ?? data.error), traceback: e.traceId ? `traceId=${toText(e.traceId)}` : '' } }
  }
  return undefined
}

/** A handle with `wsUrl` and `token`: the one given, or fetched by id. */
async function resolveSession(client: Client, session: SessionRef, id: string, call: Call): Promise<Session> {
  if (typeof session === 'object' && (session as Session).wsUrl && (session as Session).token) return session as Session
  const envelope = await api(client, { method: 'POST', path: '/mcp/getSession', body: { sessionId: id }, idempotent: true }, call)
  return toSession(client, envelope, undefined, id)
}

/**
 * Browsers cannot send the token header on a WebSocket: through `agb-micro/proxy` the same
 * events arrive as NDJSON over a fetch stream, and a failure arrives as a last line.
 */
async function viaProxy(
  client: Client,
  sessionId: string,
  code: string,
  language: string,
  timeout: number,
  call: Call,
  controller: ReadableStreamDefaultController<CodeEvent>,
  onCancel: (cancel: () => void) => void,
): Promise<void> {
  const { signal } = call
  const what = `POST ${client.endpoint}/agb-micro/stream`
  const label = `streamCode (${what}):`
  let response: Response
  try {
    response = await (client.fetch ?? globalThis.fetch)(`${client.endpoint}/agb-micro/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...client.headers },
      body: JSON.stringify({ sessionId, code, language, timeout }),
      signal,
    })
  } catch (error) {
    return controller.error(transportError(error, call, what))
  }
  if (!response.ok || !response.body) {
    const text = await response.text().catch(() => '')
    let message = text
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text
    } catch {
      // not JSON: keep the text
    }
    const code = response.status === 403 ? 'unauthorized' : response.status === 429 ? 'rate_limited' : response.status >= 500 ? 'server_error' : 'api_error'
    return controller.error(new AgbError(code, `${label} HTTP ${response.status}: ${message.slice(0, 300)}`, { status: response.status }))
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  onCancel(() => void reader.cancel().catch(() => undefined))
  let buffer = ''
  let ended = false
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      buffer += value
      let newline: number
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim()
        buffer = buffer.slice(newline + 1)
        if (!line) continue
        const event = JSON.parse(line) as CodeEvent | { type: 'failure'; code: AgbError['code']; message: string }
        if (event.type === 'failure') return controller.error(new AgbError(event.code, event.message))
        controller.enqueue(event)
        if (event.type === 'end') ended = true
      }
    }
  } catch (error) {
    return controller.error(signal.aborted ? transportError(error, call, what) : new AgbError('network', `${label} stream broken: ${String(error).slice(0, 200)}`, { cause: error, retryable: true }))
  }
  if (!ended) return controller.error(new AgbError('network', `${label} the stream ended without an end event`, { retryable: true }))
  controller.close()
}
