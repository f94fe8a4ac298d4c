import { constants } from 'node:os'
import type { LocalConfig } from '../config.ts'
import type { Session } from '../sessions/Session.ts'
import type { SandboxSpawnOptions } from './Sandbox.ts'
import { truncationMarker, utf8Prefix } from './truncateOutput.ts'

/** Options of {@link runInSession}. */
export interface RunInSessionOptions extends Pick<SandboxSpawnOptions, 'argv' | 'cwd' | 'env' | 'roBinds'> {
  /** Kill the command's process group after this many ms. */
  timeoutMs: number
  /** Per stream; extra output is dropped and a `…[truncated N bytes]` line appended. Default `config.maxOutputBytes`. */
  maxOutputBytes?: number
  /** Aborting kills the command's process group (the result then has `exitCode` 137). */
  signal?: AbortSignal
}

/** Outcome of a one-shot command. */
export interface RunInSessionResult {
  stdout: string
  stderr: string
  /** Exit status; 128 + signal number when killed by a signal. */
  exitCode: number
  timedOut: boolean
}

/**
 * After the command exits, how long output still held open by a background job it started is
 * awaited before the result is returned (the job keeps running; its later output is dropped).
 * The agent forwards a command's remaining output before its exit, so this only delays
 * commands that leave such a job behind.
 */
const OUTPUT_GRACE_MS = 200
/**
 * How long after killing a command (timeout or abort) its exit may take to be reported before
 * the call ends anyway and the sandbox is restarted. Generous: the agent also serves file
 * operations one at a time, and a loaded host is slow.
 */
const KILL_ANSWER_MS = 3000

function collector(limit: number) {
  const chunks: Buffer[] = []
  let stored = 0
  let total = 0
  return {
    push(chunk: Buffer) {
      total += chunk.length
      // A few bytes past the limit, so the cut can back off to a character boundary.
      const room = limit + 4 - stored
      if (room <= 0) return
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk
      chunks.push(part)
      stored += part.length
    },
    /** Bytes the sandbox counted but did not deliver (its own cap). */
    skipped(bytes: number) {
      total += bytes
    },
    text() {
      const all = Buffer.concat(chunks)
      if (total <= limit) return all.toString('utf8')
      const kept = utf8Prefix(all, limit).toString('utf8')
      return kept + truncationMarker(kept, total - Buffer.byteLength(kept))
    },
  }
}

/**
 * Runs a command in the session sandbox to completion, with a process-group-wide timeout.
 * Background jobs it leaves behind keep running (the sandbox is one persistent machine);
 * a timeout kills the command's own process group only, not jobs that `setsid` moved out.
 */
export function runInSession(config: LocalConfig, session: Session, options: RunInSessionOptions): Promise<RunInSessionResult> {
  const limit = options.maxOutputBytes ?? config.maxOutputBytes
  const out = collector(limit)
  const err = collector(limit)
  return new Promise((resolve) => {
    const { argv, cwd, env, roBinds } = options
    const child = session.sandbox.spawn({ argv, cwd, env, roBinds, cap: limit + 4 })
    let timedOut = false
    let done = false
    let grace: NodeJS.Timeout | undefined
    let deadline: NodeJS.Timeout | undefined
    const kill = () => {
      child.kill('SIGKILL')
      // The sandbox reports the kill within milliseconds unless it no longer answers (its
      // code can SIGSTOP the agent, which shares its uid): the call ends on the server's own
      // clock anyway, and that sandbox is stopped (the next call starts a fresh one).
      deadline ??= setTimeout(() => {
        session.sandbox.restart?.(`a command was not reported killed ${KILL_ANSWER_MS / 1000} s after its ${timedOut ? 'timeout' : 'abort'}`)
        const stderr = err.text()
        finish({ stdout: out.text(), stderr: `${stderr}${stderr && !stderr.endsWith('\n') ? '\n' : ''}the session sandbox did not answer; it was restarted\n`, exitCode: 137, timedOut })
      }, KILL_ANSWER_MS)
    }
    const timer = setTimeout(() => {
      timedOut = true
      kill()
    }, options.timeoutMs)
    options.signal?.addEventListener('abort', kill, { once: true })
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    const finish = (result: RunInSessionResult) => {
      if (done) return
      done = true
      clearTimeout(timer)
      clearTimeout(grace)
      clearTimeout(deadline)
      options.signal?.removeEventListener('abort', kill)
      child.detach()
      resolve(result)
    }
    const exitStatus = (code: number | null, signal: NodeJS.Signals | null) => code ?? 128 + (signal ? (constants.signals[signal] ?? 9) : 9)
    const result = (code: number | null, signal: NodeJS.Signals | null): RunInSessionResult => {
      out.skipped(child.dropped.stdout)
      err.skipped(child.dropped.stderr)
      // A process of this command (or of the session) died at the memory limit: say so.
      const limit = session.confinement?.memoryKillNote()
      const stderr = err.text()
      return { stdout: out.text(), stderr: limit ? `${stderr}${stderr && !stderr.endsWith('\n') ? '\n' : ''}${limit}\n` : stderr, exitCode: exitStatus(code, signal), timedOut }
    }
    child.once('error', (e: Error) => finish({ stdout: '', stderr: e.message, exitCode: 127, timedOut: false }))
    // 'close': the command exited and its output pipes are drained. A background job still
    // holding them gets a short grace, then the result goes out without its later output.
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      grace = setTimeout(() => finish(result(code, signal)), OUTPUT_GRACE_MS)
    })
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => finish(result(code, signal)))
  })
}
