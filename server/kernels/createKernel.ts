import { readFileSync } from 'node:fs'
import { StringDecoder } from 'node:string_decoder'
import type { Readable } from 'node:stream'
import type { LocalConfig } from '../config.ts'
import { findInterpreter } from '../sandbox/findInterpreter.ts'
import type { Runtime } from '../sandbox/findInterpreter.ts'
import type { SandboxProcess } from '../sandbox/Sandbox.ts'
import { truncateOutput, truncationMarker, utf8Prefix } from '../sandbox/truncateOutput.ts'
import type { Session } from '../sessions/Session.ts'
import { readEventLines } from './readEventLines.ts'

/** Languages with a stateful kernel (every run_code language). */
export type KernelLanguage = 'python' | 'javascript' | 'java' | 'r'

/** Output as it happens (streamed over the session WebSocket). */
export type KernelEvent =
  | { type: 'stdout' | 'stderr'; chunk: string }
  | { type: 'result'; data: Record<string, unknown>; isMainResult: boolean }

/** An exception raised by user code (or a timeout, a cancel, a crashed kernel). */
export interface KernelError {
  name: string
  value: string
  traceback: string
}

/** Everything one execution produced. */
export interface KernelRun {
  /** MIME bundles plus `isMainResult`, in the run_code wire format. */
  results: Array<Record<string, unknown>>
  stdout: string[]
  stderr: string[]
  error: KernelError | null
  executionCount: number
  /** Seconds. */
  executionTime: number
}

/** Options of {@link Kernel.execute}. */
export interface ExecuteOptions {
  timeoutMs: number
  onEvent?: (event: KernelEvent) => void
  /**
   * Cancels the execution: a queued one never starts; a running python one is interrupted
   * (KeyboardInterrupt; the kernel and its state survive unless it does not stop within 2 s);
   * a running javascript, java or r one kills the kernel. The run then ends with error `Cancelled` and
   * no further events.
   */
  signal?: AbortSignal
}

/** A long-lived REPL driver process of one session and language. */
export interface Kernel {
  /** Runs code in the persistent namespace; executions are queued, one at a time. */
  execute(code: string, options: ExecuteOptions): Promise<KernelRun>
  /** Kills the driver process group. A later execute starts a fresh one (state lost). */
  shutdown(): void
}

/** The error of a cancelled run (`executionError: "Cancelled"`). */
export const CANCELLED: KernelError = { name: 'Cancelled', value: '', traceback: '' }

/** How long a partial line of raw output waits for the rest of its line. */
const RAW_PARTIAL_MS = 50
/** Raw output without a newline is passed on once this long (characters). */
const RAW_LINE_MAX = 64 * 1024

/**
 * Longest line the kernel's event pipe may carry (one result or output event, JSON). The pipe
 * is the driver's, but the code it runs can write to it too (fd 3): a longer line stops the
 * kernel, so it never grows the server's memory.
 */
export const MAX_EVENT_LINE_BYTES = 16 * 1024 * 1024

/** How long an interrupted python run may take to stop before the kernel is killed. */
const INTERRUPT_GRACE_MS = 2000

/** How to start one language's REPL driver (a source file next to this module) and talk to it. */
interface Driver {
  runtime: Runtime
  file: string
  /** The command line, given the interpreter found, the driver's source and the configuration. */
  argv(command: string, source: string, config: LocalConfig): string[]
  /** Extra environment, given the driver's source. */
  env(source: string): Record<string, string>
  /**
   * `json`: one JSON line `{code, count}` per request. `framed`: a `<count> <byteLength>` line then
   * the code's bytes (for drivers without a JSON parser at hand).
   */
  request: 'json' | 'framed'
  /** Whether a cancel can interrupt a running execution (else the kernel is killed). */
  interruptible: boolean
  /** What to install when the interpreter is missing. */
  needs: string
}

/**
 * java: the driver is written into the sandbox's /tmp by the sandbox's own shell (nothing is
 * written from the host into the session root, which sandboxed code controls) and run by the
 * single-file source launcher; the driver deletes it once started. SerialGC and no perf-data
 * file keep the JVM small and quiet inside the session's memory limit.
 */
const JAVA_BOOT = 'd=$(mktemp -d) && printf %s "$AGB_JAVA_DRIVER" > "$d/AgbJavaKernel.java" && unset AGB_JAVA_DRIVER && ' +
  'exec "$0" "$@" -XX:+UseSerialGC -XX:-UsePerfData -Dfile.encoding=UTF-8 --add-opens java.base/java.io=ALL-UNNAMED "$d/AgbJavaKernel.java" "$d"'

/**
 * The JVM cannot see the session's memory limit (no /sys in the sandbox) and would size its
 * heap for the whole host: size it for the session instead (heap at most half the limit), so
 * running out of heap is an OutOfMemoryError the code sees, not the kernel killed.
 */
function javaMemoryFlags(config: LocalConfig): string[] {
  const memory = config.limitsPlan?.limits.memory
  return typeof memory === 'number' && memory > 0 ? [`-XX:MaxRAM=${memory}`, '-XX:MaxRAMPercentage=50'] : []
}

const DRIVERS: Record<KernelLanguage, Driver> = {
  python: {
    runtime: 'python',
    file: 'pythonDriver.py',
    argv: (command, source) => [command, '-u', '-c', source],
    // PYTHONUNBUFFERED: python programs the user starts stream their output too. MPLBACKEND:
    // matplotlib renders off-screen (no display in a sandbox); the driver shows the figures.
    env: () => ({ PYTHONUNBUFFERED: '1', MPLBACKEND: 'Agg' }),
    request: 'json',
    interruptible: true,
    needs: 'python3 not found',
  },
  javascript: { runtime: 'node', file: 'nodeDriver.cjs', argv: (command, source) => [command, '-e', source], env: () => ({}), request: 'json', interruptible: false, needs: 'node not found' },
  java: {
    runtime: 'java',
    file: 'javaDriver.java',
    argv: (command, _source, config) => ['/bin/sh', '-c', JAVA_BOOT, command, ...javaMemoryFlags(config)],
    env: (source) => ({ AGB_JAVA_DRIVER: source }),
    request: 'framed',
    interruptible: false,
    needs: 'needs a JDK: jshell not found on PATH',
  },
  r: {
    runtime: 'r',
    file: 'rDriver.R',
    // The driver travels in the environment: R's -e has a length limit, and a file would have to be written into the session.
    argv: (command) => [command, '--no-save', '--no-restore', '-e', 'eval(parse(text = Sys.getenv("AGB_R_DRIVER")))'],
    env: (source) => ({ AGB_R_DRIVER: source }),
    request: 'framed',
    interruptible: false,
    needs: 'Rscript not found on PATH',
  },
}
const sources = new Map<string, string>()

function driverSource(file: string): string {
  let source = sources.get(file)
  if (source === undefined) {
    source = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8')
    sources.set(file, source)
  }
  return source
}

/** The message of a run_code call in a language whose interpreter this machine lacks. */
export function notAvailable(language: KernelLanguage): string {
  return `language '${language}' is not available in AGB Local on this machine (${DRIVERS[language].needs})`
}

/** Whether the interpreter of `language` is installed (checked once per process). */
export function kernelAvailable(config: LocalConfig, language: KernelLanguage): boolean {
  return findInterpreter(DRIVERS[language].runtime, config.isolation === 'bwrap') !== null
}

function encodeRequest(driver: Driver, code: string, count: number): string | Buffer {
  if (driver.request === 'json') return JSON.stringify({ code, count }) + '\n'
  const body = Buffer.from(code, 'utf8')
  return Buffer.concat([Buffer.from(`${count} ${body.length}\n`), body])
}

interface Pending {
  run: KernelRun
  onEvent: ((event: KernelEvent) => void) | undefined
  finish: (error: KernelError | null) => void
  /** Set by a cancel: the run ends as `Cancelled` whatever the driver reports. */
  cancelled: boolean
  /** Bytes kept and dropped per stream (config.maxOutputBytes per stream and call). */
  kept: { stdout: number; stderr: number }
  dropped: { stdout: number; stderr: number }
  /** Bytes (as the driver sent them) of the results kept and dropped (config.maxResultBytes per call). */
  resultBytes: number
  droppedResults: { count: number; bytes: number }
}

/**
 * Creates a lazily started kernel. The driver source is passed on the command line, so the
 * same command works inside bubblewrap (nothing extra to bind) and as a plain process.
 */
export function createKernel(config: LocalConfig, session: Session, language: KernelLanguage): Kernel {
  const driver = DRIVERS[language]
  let child: SandboxProcess | null = null
  let pending: Pending | null = null
  let stderrTail = ''
  let queue: Promise<unknown> = Promise.resolve()
  // Raw output is passed on by lines, as the drivers' own streams are (R writes `cat("a", 1)`
  // piece by piece): a partial line goes after RAW_PARTIAL_MS, or at the end of the run.
  const rawText = { stdout: '', stderr: '' }
  let rawTimer: NodeJS.Timeout | undefined

  function flushRaw(all: boolean): void {
    for (const type of ['stdout', 'stderr'] as const) {
      const text = rawText[type]
      const cut = all ? text.length : text.lastIndexOf('\n') + 1
      if (cut === 0) continue
      rawText[type] = text.slice(cut)
      if (pending) push(pending, { type, chunk: text.slice(0, cut) })
    }
    if (all && rawTimer) {
      clearTimeout(rawTimer)
      rawTimer = undefined
    }
  }

  function start(): SandboxProcess {
    const interpreter = findInterpreter(driver.runtime, config.isolation === 'bwrap')
    if (!interpreter) throw new Error(notAvailable(language))
    const source = driverSource(driver.file)
    const proc = session.sandbox.spawn({
      argv: driver.argv(interpreter.command, source, config),
      roBinds: interpreter.roBinds,
      env: driver.env(source),
      stdin: true,
      events: true,
    })
    stderrTail = ''
    proc.stdin?.on('error', () => {}) // EPIPE when the driver died: reported via 'exit'
    // Raw fd 1/2 output (subprocesses, os.write, R's console) belongs to the execution in progress.
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') }
    const raw = (type: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = decoders[type].write(chunk)
      if (type === 'stderr') stderrTail = (stderrTail + text).slice(-4000)
      if (!pending) return
      rawText[type] += text
      flushRaw(rawText[type].length > RAW_LINE_MAX)
      rawTimer ??= setTimeout(() => {
        rawTimer = undefined
        flushRaw(true)
      }, RAW_PARTIAL_MS)
    }
    proc.stdout.on('data', raw('stdout'))
    proc.stderr.on('data', raw('stderr'))
    const onLine = (line: string, bytes: number) => {
      if (child !== proc || !pending) return
      let event: KernelEvent | { type: 'end'; error: KernelError | null }
      try {
        event = JSON.parse(line)
      } catch {
        return
      }
      if (event.type === 'end') {
        const current = pending
        // Let raw pipe data written before the end marker arrive first.
        const error = event.error ?? null
        setImmediate(() => setImmediate(() => current.finish(error)))
      } else push(pending, event, bytes)
    }
    const onOverflow = (bytes: number) => {
      if (child !== proc) return
      const mib = MAX_EVENT_LINE_BYTES / 1024 / 1024
      pending?.finish({
        name: 'KernelDied',
        value: `${language} kernel stopped: its event pipe (fd 3) got a line of over ${bytes} bytes (at most ${mib} MiB per result or event); the kernel's state is lost, the next run starts a fresh one`,
        traceback: '',
      })
      shutdown()
    }
    readEventLines(proc.events as Readable, onLine, onOverflow, MAX_EVENT_LINE_BYTES)
    const died = (code: number | null, signal: string | null) => {
      if (child !== proc) return
      child = null
      const limit = session.confinement?.memoryKillNote() // 'killed: memory limit (2 GiB)' after an OOM kill
      pending?.finish({ name: 'KernelDied', value: `${language} kernel exited (${signal ?? `code ${code}`})${limit ? `: ${limit}` : ''}`, traceback: stderrTail })
    }
    proc.once('exit', died)
    // Background children of the kernel may still hold its pipes: stop listening after a moment.
    proc.once('exit', () => setTimeout(() => proc.detach(), 1000).unref())
    proc.once('error', (e) => died(null, e.message))
    return proc
  }

  // A run keeps at most maxOutputBytes per stream (text results too) and maxResultBytes of
  // results: the server holds every run's output until its answer is sent, and sandboxed code
  // can print (or forge results) far faster than any client reads. Streaming consumers
  // (onEvent) get exactly what is kept, then the same truncation notes at the end.
  function push(target: Pending, event: KernelEvent, lineBytes = 0): void {
    const limit = config.maxOutputBytes
    if (event.type === 'result') {
      if (!event.data || typeof event.data !== 'object') return
      const bytes = lineBytes || Buffer.byteLength(JSON.stringify(event.data))
      if (target.droppedResults.count || target.resultBytes + bytes > config.maxResultBytes) {
        target.droppedResults.count++
        target.droppedResults.bytes += bytes
        return
      }
      target.resultBytes += bytes
      const data: Record<string, unknown> = {}
      for (const [mime, value] of Object.entries(event.data)) data[mime] = typeof value === 'string' && mime.startsWith('text/') ? truncateOutput(value, limit) : value
      target.run.results.push({ ...data, isMainResult: event.isMainResult })
      if (!target.cancelled) target.onEvent?.({ type: 'result', data, isMainResult: event.isMainResult })
      return
    }
    if (typeof event.chunk !== 'string' || (event.type !== 'stdout' && event.type !== 'stderr')) return
    const bytes = Buffer.byteLength(event.chunk)
    const room = limit - target.kept[event.type]
    let chunk = event.chunk
    if (bytes <= room) {
      target.kept[event.type] += bytes
    } else {
      const part = room > 0 ? utf8Prefix(Buffer.from(event.chunk), room) : Buffer.alloc(0)
      chunk = part.toString('utf8')
      target.kept[event.type] = limit
      target.dropped[event.type] += bytes - part.length
    }
    if (!chunk) return
    target.run[event.type].push(chunk)
    if (!target.cancelled) target.onEvent?.({ type: event.type, chunk })
  }

  /** Appends the `…[truncated N bytes]` lines and the dropped-results note (streamed too). */
  function markTruncation(target: Pending): void {
    const tell = (event: KernelEvent) => {
      if (!target.cancelled) target.onEvent?.(event)
    }
    for (const type of ['stdout', 'stderr'] as const) {
      if (!target.dropped[type]) continue
      const chunk = truncationMarker(target.run[type].at(-1) ?? '', target.dropped[type])
      target.run[type].push(chunk)
      tell({ type, chunk })
    }
    const { count, bytes } = target.droppedResults
    if (count) {
      const mib = Math.round((config.maxResultBytes / 1024 / 1024) * 10) / 10
      const data = { 'text/plain': `…[truncated ${count} results (${bytes} bytes): a run_code call keeps at most ${mib} MiB of results]` }
      target.run.results.push({ ...data, isMainResult: false })
      tell({ type: 'result', data, isMainResult: false })
    }
  }

  function cancel(current: Pending): void {
    if (pending !== current || current.cancelled) return
    current.cancelled = true
    if (driver.interruptible && child) {
      // The driver raises KeyboardInterrupt in the run with this count only (never in a later one).
      child.stdin?.write(JSON.stringify({ interrupt: current.run.executionCount }) + '\n')
      const stuck = setTimeout(() => {
        if (pending !== current) return
        current.finish(CANCELLED)
        shutdown()
      }, INTERRUPT_GRACE_MS)
      stuck.unref()
    } else {
      current.finish(CANCELLED)
      shutdown() // arbitrary javascript/java/r code cannot be interrupted: a fresh kernel next time
    }
  }

  function runOne(code: string, options: ExecuteOptions): Promise<KernelRun> {
    if (options.signal?.aborted) {
      const count = session.executionCounts.get(language) ?? 0
      return Promise.resolve({ results: [], stdout: [], stderr: [], error: CANCELLED, executionCount: count, executionTime: 0 })
    }
    if (!child && !kernelAvailable(config, language)) {
      // Not installed: nothing ran, so the execution count stays.
      const count = session.executionCounts.get(language) ?? 0
      return Promise.resolve({ results: [], stdout: [], stderr: [], error: { name: 'KernelError', value: notAvailable(language), traceback: '' }, executionCount: count, executionTime: 0 })
    }
    const count = (session.executionCounts.get(language) ?? 0) + 1
    session.executionCounts.set(language, count)
    const run: KernelRun = { results: [], stdout: [], stderr: [], error: null, executionCount: count, executionTime: 0 }
    const started = performance.now()
    return new Promise((resolve) => {
      const onAbort = () => cancel(current)
      const timer = setTimeout(() => {
        current.finish({ name: 'TimeoutError', value: `Execution timed out after ${options.timeoutMs / 1000} seconds`, traceback: '' })
        shutdown() // the only way to stop arbitrary code; the next call starts a fresh kernel
      }, options.timeoutMs)
      const current: Pending = {
        run,
        onEvent: options.onEvent,
        kept: { stdout: 0, stderr: 0 },
        dropped: { stdout: 0, stderr: 0 },
        resultBytes: 0,
        droppedResults: { count: 0, bytes: 0 },
        cancelled: false,
        finish(error) {
          if (pending !== current) return
          flushRaw(true)
          pending = null
          clearTimeout(timer)
          options.signal?.removeEventListener('abort', onAbort)
          markTruncation(current)
          run.error = current.cancelled ? CANCELLED : error
          run.executionTime = Math.round(performance.now() - started) / 1000
          resolve(run)
        },
      }
      pending = current
      options.signal?.addEventListener('abort', onAbort, { once: true })
      try {
        child ??= start()
        child.stdin?.write(encodeRequest(driver, code, count))
      } catch (e) {
        current.finish({ name: 'KernelError', value: (e as Error).message, traceback: '' })
      }
    })
  }

  function shutdown(): void {
    const proc = child
    child = null
    proc?.kill('SIGKILL')
    // A run still in progress (the session is being released) ends now, not at its timeout.
    pending?.finish({ name: 'KernelDied', value: `${language} kernel was shut down`, traceback: '' })
  }

  return {
    execute(code, options) {
      const result = queue.then(() => runOne(code, options))
      queue = result.catch(() => {})
      return result
    },
    shutdown,
  }
}
