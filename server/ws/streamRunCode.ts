import { randomUUID } from 'node:crypto'
import type { LocalConfig } from '../config.ts'
import { watchStreamedRun } from '../console/watchStreamedRun.ts'
import { kernelAvailable, type KernelEvent, type KernelLanguage } from '../kernels/createKernel.ts'
import { kernelFor } from '../kernels/kernelFor.ts'
import type { Session } from '../sessions/Session.ts'

/** Languages `run_code` streams: each runs in the session's persistent kernel, output as it happens. */
export const STREAM_LANGUAGES = ['python', 'javascript', 'java', 'r']

/** What one streamed run needs. */
export interface StreamRunCodeOptions {
  language: string
  code: string
  timeoutMs: number
  /** Cancels the run (see Kernel ExecuteOptions.signal). */
  signal: AbortSignal
  /**
   * Receives the `data` of each frame, without `seq` (the caller numbers them): `phase:'event'`
   * frames as output happens, then exactly one `phase:'end'` or `phase:'error'` frame.
   */
  send: (data: Record<string, unknown>) => void
}

function eventData(event: KernelEvent): Record<string, unknown> {
  if (event.type === 'result') {
    // The WebSocket puts the MIME bundle under `mime` (PROTOCOL §7), unlike /mcp.
    return { phase: 'event', eventType: 'result', result: { isMainResult: event.isMainResult, mime: event.data } }
  }
  return { phase: 'event', eventType: event.type, chunk: event.chunk }
}

/**
 * Runs `run_code` for a WebSocket invocation (PROTOCOL §7) in the session's stateful kernel of
 * that language, output forwarded as the kernel produces it; an exception becomes
 * an `error` event followed by `end` with `status: 'failed'` and `executionError`; a cancel
 * ends with `executionError: 'Cancelled'`; a kernel that cannot start is a `phase:'error'` frame.
 */
export async function streamRunCode(config: LocalConfig, session: Session, options: StreamRunCodeOptions): Promise<void> {
  const { language, code, timeoutMs, signal } = options
  const send = watchStreamedRun(config, session, options) // the console's timeline sees streamed runs too
  const kernel = language as KernelLanguage
  if (!kernelAvailable(config, kernel)) return send({ phase: 'error', error: `language '${language}' is not available in AGB Local on this machine` })
  const run = await kernelFor(config, session, kernel).execute(code, {
    timeoutMs,
    signal,
    onEvent: (event) => send(eventData(event)),
  })
  const error = run.error
  if (error?.name === 'KernelError') return send({ phase: 'error', error: error.value })
  const end = (status: string) => ({ phase: 'end', status, executionCount: run.executionCount, executionTime: run.executionTime })
  if (!error) return send(end('finished'))
  if (error.name !== 'Cancelled') {
    send({ phase: 'event', eventType: 'error', error: { code: error.name, message: error.value, traceId: randomUUID().replace(/-/g, '') } })
  }
  send({ ...end('failed'), executionError: error.value ? `${error.name}: ${error.value}` : error.name })
}
