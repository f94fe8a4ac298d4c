import { constants } from 'node:os'
import type { LocalConfig } from '../config.ts'
import type { Session } from '../sessions/Session.ts'
import { killProcessGroup } from './processRegistry.ts'
import { spawnInSession } from './spawnInSession.ts'
import type { SpawnInSessionOptions } from './spawnInSession.ts'

/** Options of {@link runInSession}. */
export interface RunInSessionOptions extends SpawnInSessionOptions {
  /** Kill the whole process group after this many ms. */
  timeoutMs: number
  /** Per stream; extra output is dropped and a marker appended. Default 16 MiB. */
  maxOutputBytes?: number
}

/** Outcome of a one-shot command. */
export interface RunInSessionResult {
  stdout: string
  stderr: string
  /** Exit status; 128 + signal number when killed by a signal. */
  exitCode: number
  timedOut: boolean
}

function collector(limit: number) {
  const chunks: Buffer[] = []
  let size = 0
  let truncated = false
  return {
    push(chunk: Buffer) {
      if (size >= limit) return void (truncated = true)
      chunks.push(size + chunk.length > limit ? chunk.subarray(0, limit - size) : chunk)
      truncated ||= size + chunk.length > limit
      size += chunk.length
    },
    text: () => Buffer.concat(chunks).toString('utf8') + (truncated ? '\n[output truncated by AGB Local]' : ''),
  }
}

/** Runs a command in the session sandbox to completion, with a process-group-wide timeout. */
export function runInSession(config: LocalConfig, session: Session, options: RunInSessionOptions): Promise<RunInSessionResult> {
  const limit = options.maxOutputBytes ?? 16 * 1024 * 1024
  const out = collector(limit)
  const err = collector(limit)
  return new Promise((resolve) => {
    const child = spawnInSession(config, session, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      killProcessGroup(child)
    }, options.timeoutMs)
    child.stdout?.on('data', (c: Buffer) => out.push(c))
    child.stderr?.on('data', (c: Buffer) => err.push(c))
    // Like the bwrap pid namespace ending with its init: background jobs die with the command.
    child.once('exit', () => killProcessGroup(child))
    child.once('error', (e) => {
      clearTimeout(timer)
      resolve({ stdout: '', stderr: e.message, exitCode: 127, timedOut: false })
    })
    // 'close' (not 'exit'): all output pipes are drained. Grandchildren still holding the pipes
    // open are in the same process group and were killed on timeout.
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 9) : 9)
      resolve({ stdout: out.text(), stderr: err.text(), exitCode, timedOut })
    })
  })
}
