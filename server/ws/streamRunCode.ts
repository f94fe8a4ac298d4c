import { randomUUID } from 'node:crypto'
import type { LocalConfig } from '../config.ts'
import { watchStreamedRun } from '../console/watchStreamedRun.ts'
import type { KernelEvent, KernelLanguage, KernelRun } from '../kernels/createKernel.ts'
import { kernelFor } from '../kernels/kernelFor.ts'
import { runOneShot } from '../kernels/runOneShot.ts'
import type { Session } from '../sessions/Session.ts'

/** Languages `run_code` streams (java and r run one-shot: their output comes at the end). */
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
 * Runs `run_code` for a WebSocket invocation (PROTOCOL §7): python and javascript in the
 * session's stateful kernels, output forwarded as the kernel produces it; an exception becomes
 * an `error` event followed by `end` with `status: 'failed'` and `executionError`; a cancel
 * ends with `executionError: 'Cancelled'`; a kernel that cannot start is a `phase:'error'` frame.
 */
export async function streamRunCode(config: LocalConfig, session: Session, options: StreamRunCodeOptions): Promise<void> {
  const { language, code, timeoutMs, signal } = options
  const send = watchStreamedRun(config, session, options) // the console's timeline sees streamed runs too
  let run: KernelRun | null
  if (language === 'java' || language === 'r') {
    run = await runOneShot(config, session, language, code, timeoutMs, signal)
    if (!run) return send({ phase: 'error', error: `language '${language}' is not available in AGB Local on this machine` })
    for (const chunk of run.stdout) send({ phase: 'event', eventType: 'stdout', chunk })
    for (const chunk of run.stderr) send({ phase: 'event', eventType: 'stderr', chunk })
  } else {
    run = await kernelFor(config, session, language as KernelLanguage).execute(code, {
      timeoutMs,
      signal,
      onEvent: (event) => send(eventData(event)),
    })
  }
  const error = run.error
  if (error?.name === 'KernelError') return send({ phase: 'error', error: error.value })
  const end = (status: string) => ({ phase: 'end', status, executionCount: run.executionCount, executionTime: run.executionTime })
  if (!error) return send(end('finished'))
  if (error.name !== 'Cancelled') {
    send({ phase: 'event', eventType: 'error', error: { code: error.name, message: error.value, traceId: randomUUID().replace(/-/g, '') } })
  }
  send({ ...end('failed'), executionError: error.value ? `${error.name}: ${error.value}` : error.name })
}
