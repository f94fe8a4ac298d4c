import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import type { LocalConfig } from '../config.ts'
import { findInterpreter } from '../sandbox/findInterpreter.ts'
import { killProcessGroup } from '../sandbox/processRegistry.ts'
import { spawnInSession } from '../sandbox/spawnInSession.ts'
import { truncateOutput, truncationMarker, utf8Prefix } from '../sandbox/truncateOutput.ts'
import type { Session } from '../sessions/Session.ts'

/** Languages with a stateful kernel. */
export type KernelLanguage = 'python' | 'javascript'

/** Output as it happens (for streaming, phase 2 WebSocket). */
export type KernelEvent =
  | { type: 'stdout' | 'stderr'; chunk: string }
  | { type: 'result'; data: Record<string, unknown>; isMainResult: boolean }

/** An exception raised by user code (or a timeout / crashed kernel). */
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
}

/** A long-lived REPL driver process of one session and language. */
export interface Kernel {
  /** Runs code in the persistent namespace; executions are queued, one at a time. */
  execute(code: string, options: ExecuteOptions): Promise<KernelRun>
  /** Kills the driver process group. A later execute starts a fresh one (state lost). */
  shutdown(): void
}

const DRIVERS: Record<KernelLanguage, { runtime: 'python' | 'node'; file: string; flags: string[] }> = {
  python: { runtime: 'python', file: 'pythonDriver.py', flags: ['-u', '-c'] },
  javascript: { runtime: 'node', file: 'nodeDriver.cjs', flags: ['-e'] },
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

interface Pending {
  run: KernelRun
  onEvent: ((event: KernelEvent) => void) | undefined
  finish: (error: KernelError | null) => void
  /** Bytes kept and dropped per stream (config.maxOutputBytes per stream and call). */
  kept: { stdout: number; stderr: number }
  dropped: { stdout: number; stderr: number }
}

/**
 * Creates a lazily started kernel. The driver source is passed on the command line, so the
 * same command works inside bubblewrap (nothing extra to bind) and as a plain process.
 */
export function createKernel(config: LocalConfig, session: Session, language: KernelLanguage): Kernel {
  const driver = DRIVERS[language]
  let child: ChildProcess | null = null
  let pending: Pending | null = null
  let stderrTail = ''
  let queue: Promise<unknown> = Promise.resolve()

  function start(): ChildProcess {
    const interpreter = findInterpreter(driver.runtime, config.isolation === 'bwrap')
    if (!interpreter) throw new Error(`${language} is not available in AGB Local (no interpreter found)`)
    const proc = spawnInSession(config, session, {
      argv: [interpreter.command, ...driver.flags, driverSource(driver.file)],
      roBinds: interpreter.roBinds,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    })
    stderrTail = ''
    proc.stdin?.on('error', () => {}) // EPIPE when the driver died: reported via 'exit'
    // Raw fd 1/2 output (subprocesses, os.write) belongs to the execution in progress.
    const raw = (type: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = chunk.toString('utf8')
      if (type === 'stderr') stderrTail = (stderrTail + text).slice(-4000)
      if (pending) push(pending, { type, chunk: text })
    }
    proc.stdout?.on('data', raw('stdout'))
    proc.stderr?.on('data', raw('stderr'))
    createInterface({ input: proc.stdio[3] as Readable }).on('line', (line) => {
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
      } else push(pending, event)
    })
    const died = (code: number | null, signal: string | null) => {
      if (child !== proc) return
      child = null
      pending?.finish({ name: 'KernelDied', value: `${language} kernel exited (${signal ?? `code ${code}`})`, traceback: stderrTail })
    }
    proc.once('exit', died)
    proc.once('error', (e) => died(null, e.message))
    return proc
  }

  // The tool result keeps at most maxOutputBytes per stream (text results too); streaming
  // consumers (onEvent) still see everything.
  function push(target: Pending, event: KernelEvent): void {
    const limit = config.maxOutputBytes
    if (event.type === 'result') {
      const data: Record<string, unknown> = {}
      for (const [mime, value] of Object.entries(event.data)) data[mime] = typeof value === 'string' && mime.startsWith('text/') ? truncateOutput(value, limit) : value
      target.run.results.push({ ...data, isMainResult: event.isMainResult })
    } else {
      const bytes = Buffer.byteLength(event.chunk)
      const room = limit - target.kept[event.type]
      if (bytes <= room) {
        target.run[event.type].push(event.chunk)
        target.kept[event.type] += bytes
      } else {
        const part = room > 0 ? utf8Prefix(Buffer.from(event.chunk), room) : Buffer.alloc(0)
        if (part.length) target.run[event.type].push(part.toString('utf8'))
        target.kept[event.type] = limit
        target.dropped[event.type] += bytes - part.length
      }
    }
    target.onEvent?.(event)
  }

  function markTruncation(target: Pending): void {
    for (const type of ['stdout', 'stderr'] as const) {
      if (target.dropped[type]) target.run[type].push(truncationMarker(target.run[type].at(-1) ?? '', target.dropped[type]))
    }
  }

  function runOne(code: string, options: ExecuteOptions): Promise<KernelRun> {
    const count = (session.executionCounts.get(language) ?? 0) + 1
    session.executionCounts.set(language, count)
    const run: KernelRun = { results: [], stdout: [], stderr: [], error: null, executionCount: count, executionTime: 0 }
    const started = performance.now()
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        current.finish({ name: 'TimeoutError', value: `Execution timed out after ${options.timeoutMs / 1000} seconds`, traceback: '' })
        shutdown() // the only way to stop arbitrary code; the next call starts a fresh kernel
      }, options.timeoutMs)
      const current: Pending = {
        run,
        onEvent: options.onEvent,
        kept: { stdout: 0, stderr: 0 },
        dropped: { stdout: 0, stderr: 0 },
        finish(error) {
          if (pending !== current) return
          pending = null
          clearTimeout(timer)
          markTruncation(current)
          run.error = error
          run.executionTime = Math.round(performance.now() - started) / 1000
          resolve(run)
        },
      }
      pending = current
      try {
        child ??= start()
        child.stdin?.write(JSON.stringify({ code, count }) + '\n')
      } catch (e) {
        current.finish({ name: 'KernelError', value: (e as Error).message, traceback: '' })
      }
    })
  }

  function shutdown(): void {
    const proc = child
    child = null
    if (proc) killProcessGroup(proc)
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
