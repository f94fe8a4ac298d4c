import type { ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import type { Readable, Writable } from 'node:stream'
import type { LocalConfig } from '../config.ts'
import { descendantsOf, isAlive, killAll, pidsWithEnv, processTable } from './processTable.ts'
import { killProcessGroup } from './processRegistry.ts'
import { sandboxAbsolute } from './resolveSessionPath.ts'
import type { Sandbox, SandboxOwner, SandboxProcess, SandboxSpawnOptions } from './Sandbox.ts'
import type { SandboxFs } from './SandboxFs.ts'
import { SandboxFsError } from './SandboxFsError.ts'
import { spawnInSession } from './spawnInSession.ts'

/** A ChildProcess as a {@link SandboxProcess}. */
class DirectProcess extends EventEmitter implements SandboxProcess {
  readonly stdin: Writable | null
  readonly stdout: Readable
  readonly stderr: Readable
  readonly events: Readable | null
  readonly dropped = { stdout: 0, stderr: 0 }
  private failed = false

  constructor(readonly child: ChildProcess, private readonly plain: boolean) {
    super()
    this.stdin = child.stdin
    this.stdout = child.stdout!
    this.stderr = child.stderr!
    this.events = (child.stdio[3] as Readable | undefined) ?? null
    child.once('spawn', () => this.emit('spawn'))
    child.once('error', (e) => {
      this.failed = true
      this.emit('error', e)
    })
    child.once('exit', (code, signal) => this.failed || this.emit('exit', code, signal))
    child.once('close', (code, signal) => this.failed || this.emit('close', code, signal))
  }

  get pid(): number | undefined {
    return this.plain ? this.child.pid : undefined // under bwrap only the host pid is known
  }

  get exitCode(): number | null {
    return this.child.exitCode
  }

  get signalCode(): NodeJS.Signals | null {
    return this.child.signalCode
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (signal === 'SIGKILL') return killProcessGroup(this.child)
    try {
      process.kill(-this.child.pid!, signal)
    } catch {
      this.child.kill(signal)
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal)
  }

  detach(): void {
    // Keep draining: a background job writing to the inherited pipe must not block or die.
    this.stdout.removeAllListeners('data').resume()
    this.stderr.removeAllListeners('data').resume()
  }
}

/**
 * File operations are performed by the session's agent, inside its sandbox, where no path can
 * lead out of the session root whatever sandboxed code does meanwhile. Without the agent they
 * are refused rather than done from the host, where a symlink swapped in between a check and
 * the operation would redirect them to host files.
 */
function unavailableFs(): SandboxFs {
  const refuse = (syscall: string) => (path: string) =>
    Promise.reject(new SandboxFsError('ESANDBOX', 'file operations need python3 on the host (AGB Local performs them inside the session sandbox with it); install python3', syscall, sandboxAbsolute(path)))
  return {
    stat: refuse('stat') as SandboxFs['stat'],
    readFile: refuse('open'),
    writeFile: refuse('open'),
    mkdir: refuse('mkdir'),
    move: refuse('rename'),
    remove: refuse('rm'),
    list: refuse('scandir'),
    diskUsage: refuse('scandir'),
    walk: refuse('scandir'),
    openRead: refuse('open'),
    writeStream: refuse('open'),
  }
}

/**
 * The fallback sandbox when the agent cannot run (no python3 on the host): every process in a
 * sandbox of its own, as before. Under bubblewrap a background job then dies with the command
 * that started it (its pid namespace ends); plain processes survive and are found again at
 * release by their `AGB_LOCAL_SESSION` environment marker (Linux). File operations are refused
 * (see unavailableFs).
 */
export function createDirectSandbox(config: LocalConfig, session: SandboxOwner): Sandbox {
  const plain = config.isolation !== 'bwrap'
  const live = new Set<ChildProcess>()

  function hostPids(): number[] {
    if (process.platform !== 'linux') return [...live].map((c) => c.pid!).filter((pid) => pid !== undefined)
    const rows = processTable()
    const found = new Set<number>()
    for (const child of live) {
      if (child.pid === undefined) continue
      if (plain) found.add(child.pid)
      // Under bwrap: host bwrap → namespace init → the program: count from the program down.
      const init = plain ? undefined : rows.find((r) => r.ppid === child.pid)?.pid
      for (const pid of descendantsOf(child.pid, rows)) if (pid !== init) found.add(pid)
    }
    if (plain) for (const pid of pidsWithEnv('AGB_LOCAL_SESSION', session.id)) found.add(pid)
    return [...found]
  }

  return {
    spawn(options: SandboxSpawnOptions): SandboxProcess {
      const child = spawnInSession(config, session, {
        argv: options.argv,
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
        ...(options.env ? { env: options.env } : {}),
        ...(options.roBinds ? { roBinds: options.roBinds } : {}),
        stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(options.events ? ['pipe' as const] : [])],
      })
      live.add(child)
      child.once('exit', () => live.delete(child))
      child.once('error', () => live.delete(child))
      return new DirectProcess(child, plain)
    },
    hostPids,
    fs: unavailableFs(),
    async shutdown() {
      const pids = hostPids()
      for (const child of live) killProcessGroup(child)
      killAll(pids)
      const deadline = Date.now() + 2000
      while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    },
  }
}
