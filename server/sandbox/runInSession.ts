import { constants } from 'node:os'
import type { LocalConfig } from '../config.ts'
import type { Session } from '../sessions/Session.ts'
import { killProcessGroup } from './processRegistry.ts'
import { spawnInSession } from './spawnInSession.ts'
import { truncationMarker, utf8Prefix } from './truncateOutput.ts'
import type { SpawnInSessionOptions } from './spawnInSession.ts'

/** Options of {@link runInSession}. */
export interface RunInSessionOptions extends SpawnInSessionOptions {
  /** Kill the whole process group after this many ms. */
  timeoutMs: number
  /** Per stream; extra output is dropped and a `…[truncated N bytes]` line appended. Default `config.maxOutputBytes`. */
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
    text() {
      const all = Buffer.concat(chunks)
      if (total <= limit) return all.toString('utf8')
      const kept = utf8Prefix(all, limit).toString('utf8')
      return kept + truncationMarker(kept, total - Buffer.byteLength(kept))
    },
  }
}

/** Runs a command in the session sandbox to completion, with a process-group-wide timeout. */
export function runInSession(config: LocalConfig, session: Session, options: RunInSessionOptions): Promise<RunInSessionResult> {
  const limit = options.maxOutputBytes ?? config.maxOutputBytes
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
