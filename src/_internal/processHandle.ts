import type { Client } from '../client.ts'
import type { OutputChunk, ProcessData, ProcessHandle } from '../types.ts'
import { isAgbError } from '../errors.ts'
import { fromBase64 } from './base64.ts'
import { withDeadline, type Call } from './deadline.ts'
import { invokeTool, toolText } from './invokeTool.ts'
import { parseFileInfo } from './parseFileInfo.ts'
import { shellResult } from './shellResult.ts'
import { pause, sleep } from './sleep.ts'
import { requestOptions, clientOf, invalid } from './check.ts'

/** A byte offset to resume output from: a whole number from 0 (default 0). */
const offset = (value: number | undefined, name: string): number =>
  value === undefined ? 0 : Number.isSafeInteger(value) && value >= 0 ? value : invalid(`options.${name}`, 'a whole number of bytes from 0')

const CHUNK = 51_200

/** Exit code reported for a process that vanished without writing its exit code. */
export const KILLED = -1

/** Builds the methods around process data (for `spawn` and `attachProcess`). */
export function processHandle(client: Client, data: ProcessData): ProcessHandle {
  const { sessionId, dir } = data
  const shell = async (command: string, call: Call) => shellResult(await invokeTool(client, sessionId, 'shell', { command, timeout_ms: 15_000 }, call))
  const size = async (path: string, call: Call) => {
    try {
      return parseFileInfo(toolText(await invokeTool(client, sessionId, 'get_file_info', { path }, call), 'get_file_info', path)).size
    } catch (error) {
      if (isAgbError(error, 'not_found') || isAgbError(error, 'tool_error')) return -1 // not there (yet)
      throw error
    }
  }
  const read = async (path: string, offset: number, length: number, call: Call) =>
    fromBase64(toolText(await invokeTool(client, sessionId, 'read_file', { path, offset, length, format: 'binary' }, call), 'read_file'), path)
  let checked = Date.now()
  const exitCode = async (call: Call): Promise<number | undefined> => {
    const n = await size(`${dir}/exit`, call)
    if (n > 0) {
      const code = Number.parseInt(new TextDecoder().decode(await read(`${dir}/exit`, 0, n, call)).trim(), 10)
      return Number.isInteger(code) ? code : KILLED
    }
    // No exit marker: every 2 s make sure the process still exists. One killed from outside
    // (or by a sandbox restart) never writes its marker and would be waited for forever.
    if (Date.now() - checked < 2_000) return undefined
    checked = Date.now()
    const probe = await shell(`kill -0 ${data.pid} 2>/dev/null || test -s ${dir}/exit`, call)
    return probe.exitCode === 0 ? undefined : KILLED
  }
  return {
    ...data,
    toJSON: () => ({ ...data }),
    wait(options) {
      const { interval, ...rest } = options ?? {}
      return withDeadline('wait', requestOptions(rest), 600_000, async (call) => {
        for (;;) {
          const code = await exitCode(call)
          if (code !== undefined) return code
          await pause(interval ?? 500, call, `process ${data.pid} still running`)
        }
      })
    },
    async kill(options) {
      // `signal` here is the process signal to send, not an AbortSignal.
      const o = requestOptions({ ...(options?.timeout !== undefined ? { timeout: options.timeout } : {}), ...(options?.retry !== undefined ? { retry: options.retry } : {}) })
      const sig = options?.signal ?? 'TERM'
      const r = await withDeadline('kill', o, clientOf(client).timeout, (call) => shell(`kill -${sig} -- -${data.pid} 2>/dev/null || kill -${sig} ${data.pid} 2>/dev/null`, call))
      return r.exitCode === 0
    },
    output(options) {
      requestOptions(options && { signal: options.signal })
      const offsets = { stdout: offset(options?.stdoutOffset, 'stdoutOffset'), stderr: offset(options?.stderrOffset, 'stderrOffset') }
      const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() }
      const stop = options?.signal
      let finished = false
      const stream = new ReadableStream<OutputChunk>({
        async pull(controller) {
          for (;;) {
            if (stop?.aborted) return controller.close()
            try {
              // One poll, under the client's timeout.
              const state = await withDeadline('output', stop ? { signal: stop } : undefined, clientOf(client).timeout, async (call) => {
                // Read the exit marker first: output written before exit is then complete.
                const exited = finished || (await exitCode(call)) !== undefined
                let got = false
                for (const stream of ['stdout', 'stderr'] as const) {
                  const total = await size(`${dir}/${stream}`, call)
                  while (total > offsets[stream]) {
                    const bytes = await read(`${dir}/${stream}`, offsets[stream], Math.min(CHUNK, total - offsets[stream]), call)
                    if (!bytes.length) break
                    offsets[stream] += bytes.length
                    const text = decoders[stream].decode(bytes, { stream: true })
                    if (text) {
                      controller.enqueue({ stream, text, offset: offsets[stream] })
                      got = true
                    }
                  }
                }
                return got ? 'got' : exited ? 'exited' : 'idle'
              })
              if (state === 'got') return
              if (state === 'exited') {
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
