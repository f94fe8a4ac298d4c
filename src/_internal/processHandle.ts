import type { Client } from '../client.ts'
import type { RequestOptions } from '../types.ts'
import { AgbError, isAgbError } from '../errors.ts'
import { fromBase64 } from './base64.ts'
import { callTool, toolText } from './callTool.ts'
import { shellJson } from './shellJson.ts'
import { parseFileInfo } from './parseFileInfo.ts'
import { deadline, sleep } from './signal.ts'

/** What identifies a background process: plain data, safe to store and pass between invocations. */
export interface ProcessData {
  sessionId: string
  /** Process id (and process group id) in the sandbox. */
  pid: number
  /** Sandbox directory holding `stdout`, `stderr` and, once finished, `exit`. */
  dir: string
}

/** A chunk of a background process's output. */
export interface OutputChunk {
  stream: 'stdout' | 'stderr'
  text: string
  /** Byte offset in that stream after this chunk: pass it back to resume reading later. */
  offset: number
}

/** Options for {@link ProcessHandle.output}. */
export interface OutputOptions {
  /** Resume stdout from this byte offset. Default 0. */
  stdoutOffset?: number
  /** Resume stderr from this byte offset. Default 0. */
  stderrOffset?: number
  /** Milliseconds between polls while the process runs. Default 250. */
  interval?: number
  /** Stop tailing (the stream ends quietly; the process keeps running). */
  signal?: AbortSignal
}

/** A background process started by `spawn` or re-attached by `attachProcess`. */
export interface ProcessHandle extends ProcessData {
  /** Tails stdout and stderr (by offset, through `read_file`) until the process has exited and everything was read. */
  output(options?: OutputOptions): ReadableStream<OutputChunk> & AsyncIterable<OutputChunk>
  /**
   * Waits for the process to exit; resolves with its exit code (`-1` when it was killed
   * from outside and left none). `timeout` defaults to 10 minutes.
   */
  wait(options?: RequestOptions & { interval?: number }): Promise<number>
  /** Sends `signal` (default TERM) to the process group; true when something was signalled. */
  kill(options?: RequestOptions & { signal?: 'TERM' | 'KILL' | 'INT' | 'HUP' }): Promise<boolean>
  /** The plain data to store for `attachProcess`. */
  toJSON(): ProcessData
}

const CHUNK = 51_200

/** Exit code reported for a process that vanished without writing its exit code. */
export const KILLED = -1

/** Builds the methods around process data (for `spawn` and `attachProcess`). */
export function processHandle(client: Client, data: ProcessData): ProcessHandle {
  const { sessionId, dir } = data
  const shell = async (command: string, signal: AbortSignal) => shellJson(await callTool(client, sessionId, 'shell', { command, timeout_ms: 15_000 }, signal))
  const size = async (path: string, signal: AbortSignal) => {
    try {
      return parseFileInfo(toolText(await callTool(client, sessionId, 'get_file_info', { path }, signal), 'get_file_info')).size
    } catch (error) {
      if (isAgbError(error, 'tool_error')) return -1 // not there (yet)
      throw error
    }
  }
  const read = async (path: string, offset: number, length: number, signal: AbortSignal) =>
    fromBase64(toolText(await callTool(client, sessionId, 'read_file', { path, offset, length, format: 'binary' }, signal), 'read_file'), path)
  let checked = Date.now()
  const exitCode = async (signal: AbortSignal): Promise<number | undefined> => {
    const n = await size(`${dir}/exit`, signal)
    if (n > 0) {
      const code = Number.parseInt(new TextDecoder().decode(await read(`${dir}/exit`, 0, n, signal)).trim(), 10)
      return Number.isInteger(code) ? code : KILLED
    }
    // No exit marker: every 2 s make sure the process still exists. One killed from outside
    // (or by a sandbox restart) never writes its marker and would be waited for forever.
    if (Date.now() - checked < 2_000) return undefined
    checked = Date.now()
    const probe = await shell(`kill -0 ${data.pid} 2>/dev/null || test -s ${dir}/exit`, signal)
    return probe.exitCode === 0 ? undefined : KILLED
  }
  return {
    ...data,
    toJSON: () => ({ ...data }),
    async wait(options) {
      const signal = deadline(options, 600_000)
      for (;;) {
        const code = await exitCode(signal)
        if (code !== undefined) return code
        await sleep(options?.interval ?? 500, signal).catch((reason: unknown) => {
          const timedOut = (reason as { name?: string })?.name === 'TimeoutError'
          throw new AgbError(timedOut ? 'timeout' : 'aborted', `[process ${data.pid}] ${timedOut ? 'still running at the deadline' : 'wait aborted'}`, { cause: reason })
        })
      }
    },
    async kill(options) {
      const signal = deadline(options, client.timeout)
      const r = await shell(`kill -${options?.signal ?? 'TERM'} -- -${data.pid} 2>/dev/null || kill -${options?.signal ?? 'TERM'} ${data.pid} 2>/dev/null`, signal)
      return r.exitCode === 0
    },
    output(options) {
      const offsets = { stdout: options?.stdoutOffset ?? 0, stderr: options?.stderrOffset ?? 0 }
      const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() }
      const stop = options?.signal
      let finished = false
      const stream = new ReadableStream<OutputChunk>({
        async pull(controller) {
          for (;;) {
            if (stop?.aborted) return controller.close()
            const signal = deadline({ ...(stop ? { signal: stop } : {}) }, client.timeout)
            try {
              // Read the exit marker first: output written before exit is then complete.
              const exited = finished || (await exitCode(signal)) !== undefined
              let got = false
              for (const stream of ['stdout', 'stderr'] as const) {
                const total = await size(`${dir}/${stream}`, signal)
                while (total > offsets[stream]) {
                  const bytes = await read(`${dir}/${stream}`, offsets[stream], Math.min(CHUNK, total - offsets[stream]), signal)
                  if (!bytes.length) break
                  offsets[stream] += bytes.length
                  const text = decoders[stream].decode(bytes, { stream: true })
                  if (text) {
                    controller.enqueue({ stream, text, offset: offsets[stream] })
                    got = true
                  }
                }
              }
              if (got) return
              if (exited) {
                finished = true
                return controller.close()
              }
              await sleep(options?.interval ?? 250, stop ?? new AbortController().signal)
            } catch (error) {
              if (stop?.aborted) return controller.close()
              return controller.error(error)
            }
          }
        },
      })
      if (!(Symbol.asyncIterator in stream)) {
        Object.defineProperty(stream, Symbol.asyncIterator, {
          value: async function* () {
            const reader = (stream as ReadableStream<OutputChunk>).getReader()
            for (;;) {
              const { done, value } = await reader.read()
              if (done) return
              yield value
            }
          },
        })
      }
      return stream as ReadableStream<OutputChunk> & AsyncIterable<OutputChunk>
    },
  }
}
