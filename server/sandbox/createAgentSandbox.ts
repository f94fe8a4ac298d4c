import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { relative, sep } from 'node:path'
import { Readable, Writable } from 'node:stream'
import type { LocalConfig } from '../config.ts'
import { createAgentFs } from './createAgentFs.ts'
import type { AgentFsReply, AgentFsRequest } from './createAgentFs.ts'
import { findInterpreter } from './findInterpreter.ts'
import type { Interpreter } from './findInterpreter.ts'
import { descendantsOf, isAlive, killAll, pidsWithEnv, processTable } from './processTable.ts'
import { killProcessGroup, onHostExit } from './processRegistry.ts'
import { resolveSessionPath, sandboxAbsolute } from './resolveSessionPath.ts'
import { readLines } from './readLines.ts'
import type { Sandbox, SandboxOwner, SandboxProcess, SandboxSpawnOptions } from './Sandbox.ts'
import { launchSpec, sessionEnv } from './spawnInSession.ts'
import { logSafe } from './logSafe.ts'

let agentSource: string | undefined
/**
 * The agent runs as `python3 -I -S -c <source>`: nothing to bind or copy into the sandbox.
 * Its file operations (sandboxAgentFs.py) come first, so the main loop can dispatch to them.
 */
function source(): string {
  agentSource ??= ['./sandboxAgentFs.py', './sandboxAgent.py'].map((f) => readFileSync(new URL(f, import.meta.url), 'utf8')).join('\n')
  return agentSource
}

const binds = new Map<boolean, string[]>()
/** Host directories of every interpreter a session may run: bound once, when the sandbox starts. */
function interpreterBinds(sandboxed: boolean): string[] {
  let list = binds.get(sandboxed)
  if (!list) {
    const all = (['python', 'node', 'java', 'r'] as const).flatMap((r) => findInterpreter(r, sandboxed)?.roBinds ?? [])
    list = [...new Set(all)]
    binds.set(sandboxed, list)
  }
  return list
}

function isAgent(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('\0agb-local-agent\0')
  } catch {
    return false
  }
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]))
const STOP_WAIT_MS = 2000
/** Longest line or raw block read from the agent: its largest carry 1 MiB of file data (see createAgentFs). */
const MAX_LINE_BYTES = 8 * 1024 * 1024
/**
 * A file operation the agent has not answered by then fails (sandboxed code can stop the agent:
 * the call must not hang). Generous: removing or walking a huge tree is one operation.
 */
const FS_TIMEOUT_MS = 300_000
/** How often a stopped agent is looked for while file operations wait. */
const WATCH_MS = 1000

/** A file operation awaiting the agent's reply. */
interface PendingFs {
  resolve(reply: AgentFsReply): void
  reject(error: Error): void
  onPart?: (part: Record<string, unknown>, raw?: Buffer) => void
  timer: NodeJS.Timeout
}

type AgentMessage =
  | { op: 'ready'; pid: number }
  | { op: 'spawned'; id: number; pid: number }
  | { op: 'failed'; id: number; message: string }
  | { op: 'data'; id: number; fd: number; data: string }
  | { op: 'eof'; id: number; fd: number; dropped: number }
  | { op: 'exit'; id: number; code: number | null; signal: number | null }
  | { op: 'fsp'; rid: number; [field: string]: unknown }
  | { op: 'fsr'; rid: number; ok?: Record<string, unknown>; error?: { code: string; message: string } }

/** One running agent: a bwrap'd (or plain) `python3 sandboxAgent.py` and its processes. */
interface Agent {
  child: ChildProcess
  procs: Map<number, AgentProcess>
  nextId: number
  /** File operations in flight, by request id. */
  fs: Map<number, PendingFs>
  nextRid: number
  /** Being stopped for output it never sends: file operations wait for the next agent. */
  retiring: boolean
  alive: boolean
  /** Writes a request; `raw` bytes follow its line (announced by `bin`). */
  send(message: Record<string, unknown>, raw?: Buffer): void
  /** Host pid of the agent, found once: under bwrap its pid namespace's init (the agent itself), else the child. */
  agentPid: number | undefined
  /** Checks the agent is not stopped while file operations wait (see watch). */
  watchdog?: NodeJS.Timeout
  exited: Promise<void>
}

/** A process run by the agent, ChildProcess-like. */
class AgentProcess extends EventEmitter implements SandboxProcess {
  pid: number | undefined = undefined
  readonly stdin: Writable | null
  readonly stdout = new Readable({ read() {} })
  readonly stderr = new Readable({ read() {} })
  readonly events: Readable | null
  exitCode: number | null = null
  signalCode: NodeJS.Signals | null = null
  readonly dropped = { stdout: 0, stderr: 0 }
  private readonly open: Set<number>
  private state: 'starting' | 'running' | 'exited' | 'failed' | 'closed' = 'starting'
  private detached = false

  /**
   * @param send writes a request to the agent
   * @param forget called once the agent will say nothing more about this process
   */
  constructor(private readonly send: (message: Record<string, unknown>) => void, private readonly forget: () => void, readonly id: number, options: SandboxSpawnOptions) {
    super()
    this.events = options.events ? new Readable({ read() {} }) : null
    this.open = new Set(options.events ? [1, 2, 3] : [1, 2])
    this.stdin = options.stdin
      ? new Writable({
          write: (chunk: Buffer, _encoding, done) => {
            send({ op: 'write', id, data: Buffer.from(chunk).toString('base64') })
            done()
          },
          final: (done) => {
            send({ op: 'close', id })
            done()
          },
        })
      : null
  }

  private stream(fd: number): Readable | null {
    return fd === 1 ? this.stdout : fd === 2 ? this.stderr : fd === 3 ? this.events : null
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    // Also once the leader exited: background members may still hold its group.
    if (this.state !== 'failed') this.send({ op: 'signal', id: this.id, signal: constants.signals[signal], group: true })
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.send({ op: 'signal', id: this.id, signal: constants.signals[signal], group: false })
  }

  detach(): void {
    if (this.detached) return
    this.detached = true
    this.send({ op: 'detach', id: this.id })
    for (const fd of this.open) this.stream(fd)?.push(null)
    this.open.clear()
    this.forgetIfDone()
  }

  /** Agent messages about this process. */
  handle(message: AgentMessage): void {
    switch (message.op) {
      case 'spawned':
        this.pid = message.pid
        this.state = 'running'
        this.emit('spawn')
        break
      case 'failed':
        this.state = 'failed'
        this.endStreams()
        this.forget()
        this.emit('error', new Error(message.message))
        break
      case 'data':
        if (!this.detached) this.stream(message.fd)?.push(Buffer.from(message.data, 'base64'))
        break
      case 'eof':
        if (message.fd === 1) this.dropped.stdout = message.dropped
        if (message.fd === 2) this.dropped.stderr = message.dropped
        if (this.open.delete(message.fd)) this.stream(message.fd)?.push(null)
        this.maybeClose()
        break
      case 'exit':
        this.exitCode = message.code
        this.signalCode = message.signal === null ? null : (SIGNAL_NAMES.get(message.signal) ?? 'SIGKILL')
        this.state = 'exited'
        this.emit('exit', this.exitCode, this.signalCode)
        this.maybeClose()
        break
    }
  }

  /** The agent (the whole sandbox) went away. */
  agentDied(): void {
    if (this.state === 'starting') {
      this.state = 'failed'
      this.endStreams()
      this.emit('error', new Error('the session sandbox stopped'))
    } else if (this.state === 'running') {
      this.signalCode = 'SIGKILL'
      this.state = 'exited'
      this.emit('exit', null, 'SIGKILL')
      this.endStreams()
      this.maybeClose()
    } else this.endStreams()
  }

  private endStreams(): void {
    for (const fd of this.open) this.stream(fd)?.push(null)
    this.open.clear()
    if (this.stdin && !this.stdin.destroyed) this.stdin.destroy()
  }

  private maybeClose(): void {
    if (this.state !== 'exited' || this.open.size) return this.forgetIfDone()
    this.state = 'closed'
    this.forget()
    // After the streams' queued 'data'/'end' events, as ChildProcess does.
    setImmediate(() => this.emit('close', this.exitCode, this.signalCode))
  }

  private forgetIfDone(): void {
    if (this.detached && (this.state === 'exited' || this.state === 'closed')) this.forget()
  }

  get running(): boolean {
    return this.state === 'starting' || this.state === 'running'
  }
}

/**
 * The persistent sandbox of a session: one long-lived agent process (`sandboxAgent.py`, under
 * bubblewrap when isolation is on), started lazily, that spawns every process of the session
 * inside the same namespaces and reaps them. Background jobs started by one `shell` call keep
 * running for the next (as on the cloud, where a sandbox is one machine) and die with the
 * sandbox: release SIGKILLs the bwrap process group (the pid namespace ends with its init) or,
 * without isolation, asks the agent (a child subreaper) to kill its whole tree.
 * @param python the interpreter that runs the agent
 */
export function createAgentSandbox(config: LocalConfig, session: SandboxOwner, python: Interpreter): Sandbox {
  const bwrap = config.isolation === 'bwrap'
  let agent: Agent | null = null
  let stopped = false

  function start(): Agent {
    const spec = launchSpec(config, session, {
      argv: [python.command, '-I', '-S', '-c', source(), 'agb-local-agent', session.id],
      roBinds: interpreterBinds(bwrap),
      asPid1: true,
    })
    const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    const current: Agent = {
      child,
      procs: new Map(),
      nextId: 1,
      fs: new Map(),
      nextRid: 1,
      retiring: false,
      alive: true,
      agentPid: undefined,
      send(message, raw) {
        if (!current.alive || !child.stdin?.writable) return
        if (!raw?.length) return void child.stdin.write(`${JSON.stringify(message)}\n`)
        child.stdin.write(`${JSON.stringify({ ...message, bin: raw.length })}\n`)
        child.stdin.write(raw)
      },
      exited: new Promise((resolve) => child.once('close', () => resolve())),
    }
    child.stdin?.on('error', () => {}) // EPIPE when the agent died: reported via 'exit'
    const dispatch = (message: AgentMessage, raw?: Buffer) => {
      if (message.op === 'fsr' || message.op === 'fsp') fsMessage(current, message, raw)
      else if (message.op !== 'ready') current.procs.get(message.id)?.handle(message)
      updateRef(current)
    }
    let awaitingRaw: AgentMessage | null = null // a message whose raw bytes follow
    readLines(child.stdout!, {
      line(line) {
        let message: AgentMessage
        try {
          message = JSON.parse(line) as AgentMessage
        } catch {
          return
        }
        if (!message || typeof message !== 'object') return
        const bin = (message as { bin?: unknown }).bin
        if (typeof bin === 'number' && Number.isSafeInteger(bin) && bin > 0) {
          awaitingRaw = message
          return bin
        }
        dispatch(message)
      },
      raw(bytes) {
        const message = awaitingRaw
        awaitingRaw = null
        if (message) dispatch(message, bytes)
      },
      overflow(bytes) {
        // Never sent by the agent: sandboxed code wrote into its output. What follows cannot be
        // trusted to be in step: stop this sandbox (the next operation starts a new one).
        awaitingRaw = null
        config.log(`AGB Local: the sandbox of ${session.id} wrote a ${bytes}-byte message; stopping it`)
        current.retiring = true
        killNow(current)
      },
    }, MAX_LINE_BYTES)
    let errors = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      errors = (errors + chunk.toString('utf8')).slice(-4000)
    })
    const offExit = onHostExit(() => killNow(current))
    const died = () => {
      if (!current.alive) return
      current.alive = false
      offExit()
      if (agent === current) agent = null
      if (!stopped) config.log(`AGB Local: the sandbox of ${session.id} stopped${errors.trim() ? `: ${logSafe(errors.trim())}` : ''}`)
      for (const proc of [...current.procs.values()]) proc.agentDied()
      current.procs.clear()
      for (const pending of current.fs.values()) {
        clearTimeout(pending.timer)
        pending.reject(new Error(stopped ? 'the session was released' : 'the session sandbox stopped'))
      }
      current.fs.clear()
    }
    child.once('exit', died)
    child.once('error', (e) => {
      errors += e.message
      died()
    })
    return current
  }

  /** A file operation's reply or one of its parts. */
  function fsMessage(a: Agent, message: AgentMessage & { op: 'fsr' | 'fsp' }, raw?: Buffer): void {
    const pending = a.fs.get(message.rid)
    if (!pending) return
    if (message.op === 'fsp') return pending.onPart?.(message, raw)
    a.fs.delete(message.rid)
    clearTimeout(pending.timer)
    if (message.ok !== undefined) pending.resolve({ ok: message.ok, ...(raw ? { raw } : {}) })
    else if (message.error !== undefined) pending.resolve({ error: message.error })
    else pending.reject(new Error('the session sandbox sent a malformed reply'))
  }

  /** Sends a file operation to the agent (starting it when needed). */
  const fsRequest: AgentFsRequest = async (call, args, onPart, raw) => {
    if (agent?.retiring) await agent.exited // its sandbox ends first: never two at once
    return await sendFs(call, args, onPart, raw)
  }
  const sendFs: AgentFsRequest = (call, args, onPart, raw) => new Promise((resolve, reject) => {
    if (stopped) return reject(new Error('the session was released'))
    let a: Agent
    try {
      a = agent ??= start()
    } catch (e) {
      return reject(e as Error)
    }
    const rid = a.nextRid++
    const timer = setTimeout(() => {
      a.fs.delete(rid)
      reject(new Error(`the session sandbox did not answer in ${FS_TIMEOUT_MS / 1000} s`))
      updateRef(a)
    }, FS_TIMEOUT_MS)
    a.fs.set(rid, { resolve, reject, onPart, timer })
    updateRef(a)
    watch(a)
    a.send({ ...args, op: 'fs', rid, call }, raw)
  })

  /**
   * While file operations wait for the agent, checks once a second that it is not stopped
   * (SIGSTOP, a tracer): a stopped agent never answers, and its operations would wait for
   * FS_TIMEOUT_MS. Its sandbox is stopped instead (the operations fail, the next starts anew).
   * Sandboxed code cannot stop its agent (the namespace's non-dumpable init); this is for
   * whatever else might.
   */
  function watch(a: Agent): void {
    // Under bubblewrap only: it has never watched a plain agent (isolation none).
    if (a.watchdog || !bwrap) return
    a.watchdog = setInterval(() => {
      if (!a.alive || !a.fs.size) {
        clearInterval(a.watchdog)
        a.watchdog = undefined
        return
      }
      const self = agentPid(a)
      let state = ''
      try {
        const stat = readFileSync(`/proc/${self}/stat`, 'latin1')
        state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      } catch {}
      if (self !== undefined && (state === 'T' || state === 't')) restart(`its agent is stopped (state ${state})`)
    }, WATCH_MS)
    a.watchdog.unref()
  }

  function restart(reason: string): void {
    const a = agent
    if (!a || !a.alive || a.retiring || stopped) return
    config.log(`AGB Local: the sandbox of ${session.id} does not answer (${reason}); stopping it`)
    a.retiring = true
    // As shutdown does: the namespace's init first (the kernel kills the whole namespace).
    const init = bwrap ? agentPid(a) : undefined
    if (init !== undefined) killAll([init])
    killNow(a)
  }

  /** Idle agents do not keep the host's event loop alive; busy ones do (as kernels always did). */
  function updateRef(a: Agent, busy = a.procs.size > 0 || a.fs.size > 0 || stopped): void {
    for (const handle of [a.child, a.child.stdout, a.child.stderr, a.child.stdin] as Array<{ ref?: () => void; unref?: () => void } | null>) {
      if (busy) handle?.ref?.()
      else handle?.unref?.()
    }
  }

  /** Host pid of the agent (under bwrap the namespace's init, which is the agent), once it exists. */
  function agentPid(a: Agent, rows = processTable()): number | undefined {
    if (a.agentPid !== undefined || a.child.pid === undefined) return a.agentPid
    if (!bwrap) return (a.agentPid = a.child.pid)
    // bwrap (host pid X) → the agent, its pid namespace's init (--as-pid-1; told apart from
    // bwrap's setup child by its argv).
    const init = rows.find((r) => r.ppid === a.child.pid && isAgent(r.pid))
    if (init) a.agentPid = init.pid
    return a.agentPid
  }

  function sessionPids(a: Agent): number[] {
    if (process.platform !== 'linux') return [...a.procs.values()].filter((p) => p.running && p.pid !== undefined).map((p) => p.pid!)
    const rows = processTable()
    const pid = agentPid(a, rows)
    if (pid === undefined) return []
    // Under bwrap, orphans go to the agent (a subreaper and the namespace's init).
    return descendantsOf(pid, rows)
  }

  /** Synchronous kill for host exit: the bwrap group (its namespace dies with it), or the agent's tree. */
  function killNow(a: Agent): void {
    if (bwrap) return killProcessGroup(a.child)
    const root = a.child.pid
    if (root === undefined) return
    for (let pass = 0; pass < 3; pass++) killAll(descendantsOf(root))
    killProcessGroup(a.child)
  }

  function spawnProcess(options: SandboxSpawnOptions): SandboxProcess {
    if (stopped) {
      const failed = new AgentProcess(() => {}, () => {}, 0, options)
      setImmediate(() => failed.handle({ op: 'failed', id: 0, message: 'the session was released' }))
      return failed
    }
    const cwd = sandboxAbsolute(options.cwd)
    // Plain processes get the host path; under bubblewrap the sandbox resolves cwd itself.
    const hostCwd = bwrap ? cwd : resolveSessionPath(session.rootDir, cwd)
    agent ??= start()
    const a = agent
    const id = a.nextId++
    const proc = new AgentProcess(a.send, () => a.procs.delete(id), id, options)
    a.procs.set(id, proc)
    updateRef(a)
    a.send({
      op: 'spawn',
      id,
      argv: options.argv,
      cwd: hostCwd,
      env: sessionEnv(config, session, options.env),
      stdin: options.stdin === true,
      fds: options.events ? [1, 2, 3] : [1, 2],
      cap: options.cap ?? null,
    })
    return proc
  }

  // Under bubblewrap the agent is given sandbox paths and resolves them itself, inside the
  // sandbox. Without isolation it runs on the host and is given host paths in the session
  // directory (resolved as the sandbox would, but nothing is confined: not isolated).
  const fs = createAgentFs(fsRequest, bwrap
    ? { toAgent: (path) => path, realPath: (path, reported) => (reported.startsWith('/') ? reported : path) }
    : {
        toAgent: (path, followLast) => resolveSessionPath(session.rootDir, path, { followLast }),
        realPath: (path) => {
          const rel = relative(session.rootDir, resolveSessionPath(session.rootDir, path))
          return rel.startsWith('..') ? path : `/${sep === '/' ? rel : rel.split(sep).join('/')}`
        },
      })

  return {
    spawn: spawnProcess,
    fs,
    hostPids: () => (agent?.alive ? sessionPids(agent) : []),
    restart,
    async shutdown() {
      stopped = true
      const a = agent
      const strays = () => (bwrap ? [] : pidsWithEnv('AGB_LOCAL_SESSION', session.id))
      if (!a) return killAll(strays())
      updateRef(a, true) // awaited below: keep the event loop alive until it is gone
      const snapshot = sessionPids(a)
      const self = agentPid(a)
      if (self !== undefined) snapshot.push(self)
      if (bwrap) {
        // SIGKILL the namespace's init: the kernel kills every process in the namespace and
        // bwrap reaps its init and exits. (Killing bwrap too would leave the init a zombie
        // on hosts whose pid 1 does not reap.)
        const init = agentPid(a)
        if (init === undefined) killProcessGroup(a.child)
        else killAll([init])
        await Promise.race([a.exited, new Promise((r) => setTimeout(r, STOP_WAIT_MS / 2).unref())])
        killProcessGroup(a.child)
      } else {
        a.send({ op: 'shutdown' }) // the agent kills its whole tree, then exits
        await Promise.race([a.exited, new Promise((r) => setTimeout(r, STOP_WAIT_MS / 2).unref())])
        killNow(a)
        killAll(strays())
      }
      const deadline = Date.now() + STOP_WAIT_MS
      await Promise.race([a.exited, new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())])
      while (snapshot.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    },
  }
}
