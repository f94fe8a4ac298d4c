import type { CodeEvent } from './streamCode.ts'
import type { RunCodeResult } from './runCode.ts'
import { invalid } from '../_internal/check.ts'

/** Callbacks for {@link collectCode}. */
export interface CollectCodeOptions {
  /** Called with each stdout chunk as the code prints it. */
  onStdout?: (text: string) => void
  /** Called with each stderr chunk as the code prints it. */
  onStderr?: (text: string) => void
}

/**
 * Folds a `streamCode` stream into the {@link RunCodeResult} `runCode` would return, calling
 * back with the output while the code runs: live output, opted into with one import.
 *
 * @param stream - The events of `streamCode(client, session, code, options)`.
 * @param options - `onStdout`, `onStderr`.
 * @returns The assembled result (`requestId` is the run's invocation id).
 * @throws AgbError whatever the stream errors with (`network`, `timeout`, `aborted`, `unsupported`, ...).
 * @example
 * ```ts
 * const result = await collectCode(streamCode(client, session, 'print(1)'), { onStdout: (t) => console.log(t) })
 * ```
 */
export async function collectCode(stream: AsyncIterable<CodeEvent>, options: CollectCodeOptions = {}): Promise<RunCodeResult> {
  if (typeof (stream as Partial<AsyncIterable<CodeEvent>> | undefined)?.[Symbol.asyncIterator] !== 'function') invalid('stream', 'a streamCode stream (async-iterable)')
  for (const name of ['onStdout', 'onStderr'] as const) if (options?.[name] !== undefined && typeof options[name] !== 'function') invalid(`options.${name}`, 'a function')
  const out: RunCodeResult = { success: true, stdout: '', stderr: '', logs: { stdout: [], stderr: [] }, results: [], executionTime: 0, timedOut: false, requestId: '' }
  for await (const event of stream) {
    if (event.type === 'stdout' || event.type === 'stderr') {
      out.logs[event.type].push(event.text)
      out[event.type] += event.text
      ;(event.type === 'stdout' ? options.onStdout : options.onStderr)?.(event.text)
    } else if (event.type === 'result') {
      out.results.push(event.result)
      if (event.result.text !== undefined && (event.result.isMainResult || out.text === undefined)) out.text = event.result.text
    } else if (event.type === 'error') {
      out.error = event.error
      out.success = false
      if (event.error.name === 'TimeoutError') out.timedOut = true
    } else {
      if (event.status === 'failed') out.success = false
      if (event.executionCount !== undefined) out.executionCount = event.executionCount
      out.executionTime = event.executionTime
      out.requestId = event.requestId
    }
  }
  return out
}
