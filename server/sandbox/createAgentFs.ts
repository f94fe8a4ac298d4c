import { Readable } from 'node:stream'
import { sandboxAbsolute } from './resolveSessionPath.ts'
import type { FsStat, FsStatNamed, FsType, ReadFileResult, SandboxFs, SnapshotEntry, WalkOptions, WalkResult } from './SandboxFs.ts'
import { SandboxFsError } from './SandboxFsError.ts'

/** A reply of the agent to one file operation: `ok` fields (and file bytes), or the errno name and text. */
export type AgentFsReply = { ok: Record<string, unknown>; raw?: Buffer } | { error: { code: string; message: string } }

/**
 * Sends one file operation (with file bytes `raw`) to the session's agent and resolves with
 * its reply; `onPart` receives the parts sent before it. Rejects (an Error) when the agent is
 * not running or does not answer in time.
 */
export type AgentFsRequest = (
  call: string,
  args: Record<string, unknown>,
  onPart?: (part: Record<string, unknown>, raw?: Buffer) => void,
  raw?: Buffer,
) => Promise<AgentFsReply>

/** How sandbox paths are given to the agent and how the real paths it reports read back. */
export interface AgentFsPaths {
  /** The path the agent is given for an absolute, normalised sandbox path. */
  toAgent(sandboxPath: string, followLast: boolean): string
  /** The sandbox path of `sandboxPath` with every link resolved, given what the agent reported. */
  realPath(sandboxPath: string, reported: string): string
}

/** File bytes per message each way (sent raw): a small read or write is one round trip, a large one streams. */
const CHUNK = 1024 * 1024
/** Chunks of a stream in flight to the agent at once. */
const WINDOW = 4
/** Most entries of one directory listing (a bound on what the agent's output can make us hold). */
const MAX_LIST = 1_000_000
const TYPES = new Set<FsType>(['file', 'directory', 'symlink', 'fifo', 'socket', 'char', 'block', 'unknown'])

// The agent runs next to sandboxed code, which may write forged lines to its output: every
// field read back is checked, and nothing read back is ever used as a host path.
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
const str = (v: unknown): string => (typeof v === 'string' ? v : '')

function statOf(o: Record<string, unknown>): FsStat {
  const type = TYPES.has(o.type as FsType) ? (o.type as FsType) : 'unknown'
  return { type, size: num(o.size), mtimeMs: num(o.mtimeMs), mode: num(o.mode), uid: num(o.uid), gid: num(o.gid), ino: num(o.ino) }
}

function entriesOf(part: Record<string, unknown>): unknown[] {
  return Array.isArray(part.entries) ? part.entries : []
}

/**
 * The {@link SandboxFs} of a session whose file operations run in its agent (sandboxAgentFs.py):
 * under bubblewrap inside the sandbox, so no path can lead out of the session root.
 * @param request sends one operation to the agent
 * @param paths maps sandbox paths to what the agent is given
 */
export function createAgentFs(request: AgentFsRequest, paths: AgentFsPaths): SandboxFs {
  /** Runs one operation; failures become SandboxFsError naming the sandbox path. The reply's file bytes are `raw`. */
  async function run(call: string, syscall: string, path: string, args: Record<string, unknown>, onPart?: (part: Record<string, unknown>, raw?: Buffer) => void, raw?: Buffer): Promise<Record<string, unknown> & { raw?: Buffer }> {
    let reply: AgentFsReply
    try {
      reply = await request(call, args, onPart, raw)
    } catch (e) {
      throw new SandboxFsError('ESANDBOX', (e as Error).message, syscall, path)
    }
    if ('error' in reply) {
      const text = str(reply.error?.message) || 'failed'
      throw new SandboxFsError(str(reply.error?.code) || 'EIO', text[0]!.toLowerCase() + text.slice(1), syscall, path)
    }
    const ok = reply.ok && typeof reply.ok === 'object' ? reply.ok : {}
    return reply.raw ? { ...ok, raw: reply.raw } : ok
  }

  const at = (path: string, followLast = true) => paths.toAgent(sandboxAbsolute(path), followLast)

  async function stat(path: string, options: { follow?: boolean; names?: boolean } = {}): Promise<FsStat | FsStatNamed> {
    const follow = options.follow ?? true
    const names = options.names ? { passwd: at('/etc/passwd'), group: at('/etc/group') } : undefined
    const o = await run('stat', follow ? 'stat' : 'lstat', sandboxAbsolute(path), { path: at(path, follow), follow, ...(names ? { names } : {}) })
    const st = statOf(o)
    return names ? { ...st, user: typeof o.user === 'string' ? o.user : undefined, group: typeof o.group === 'string' ? o.group : undefined } : st
  }

  async function readFile(path: string, options: { offset?: number; length?: number; max: number }): Promise<ReadFileResult> {
    const chunks: Buffer[] = []
    let total = 0
    const o = await run('read', 'open', sandboxAbsolute(path), { path: at(path), offset: options.offset ?? 0, length: options.length ?? 0, max: options.max }, (_part, raw) => {
      if (!raw) return
      total += raw.length
      if (total <= options.max) chunks.push(raw) // more than asked for is not from the agent
    })
    if (o.tooLarge !== undefined) return { size: num(o.size), data: null }
    if (o.raw) chunks.push(o.raw)
    const data = Buffer.concat(chunks)
    return { size: num(o.size), data: data.length > options.max ? data.subarray(0, options.max) : data }
  }

  async function writeFile(path: string, data: Buffer | string, options: { mode?: 'overwrite' | 'append' | 'create_new' } = {}): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    const mode = options.mode ?? 'overwrite'
    const first = buf.subarray(0, CHUNK)
    if (buf.length <= CHUNK) return void (await run('write', 'open', sandboxAbsolute(path), { path: at(path), mode }, undefined, first))
    const h = (await run('write', 'open', sandboxAbsolute(path), { path: at(path), mode, keep: true }, undefined, first)).h
    try {
      // All at once: the agent takes them in order, and the bytes are in memory already.
      const writes: Array<Promise<unknown>> = []
      for (let offset = CHUNK; offset < buf.length; offset += CHUNK) writes.push(run('pwrite', 'write', sandboxAbsolute(path), { h }, undefined, buf.subarray(offset, offset + CHUNK)))
      const failed = (await Promise.allSettled(writes)).find((r) => r.status === 'rejected')
      if (failed) throw (failed as PromiseRejectedResult).reason
    } finally {
      await run('close', 'close', sandboxAbsolute(path), { h }).catch(() => {})
    }
  }

  async function list(path: string): Promise<Array<{ name: string; dir: boolean }> | null> {
    const entries: Array<{ name: string; dir: boolean }> = []
    const o = await run('list', 'scandir', sandboxAbsolute(path), { path: at(path) }, (part) => {
      for (const e of entriesOf(part)) if (entries.length < MAX_LIST && Array.isArray(e) && typeof e[0] === 'string') entries.push({ name: e[0], dir: e[1] === true })
    })
    return o.notDir ? null : entries
  }

  async function walk(path: string, options: WalkOptions): Promise<WalkResult> {
    const entries: Array<string | SnapshotEntry> = []
    const cap = options.want === 'search' && options.maxMatches ? options.maxMatches : options.limit
    const o = await run('walk', 'scandir', sandboxAbsolute(path), { path: at(path), ...options }, (part) => {
      for (const e of entriesOf(part)) {
        if (entries.length >= cap) return
        if (options.want === 'snapshot') {
          if (Array.isArray(e) && typeof e[0] === 'string') entries.push([e[0], e[1] === true, num(e[2]), num(e[3]), num(e[4])])
        } else if (typeof e === 'string') entries.push(e)
      }
    })
    const top = paths.realPath(sandboxAbsolute(path), str(o.top))
    if (o.missing) return { top, missing: true, entries: [] }
    const type = TYPES.has(o.type as FsType) ? (o.type as FsType) : 'unknown'
    const s = Array.isArray(o.stat) ? o.stat : undefined
    return { top, type, entries, ...(s ? { stat: [s[0] === true, num(s[1]), num(s[2]), num(s[3])] as [boolean, number, number, number] } : {}) }
  }

  async function openRead(path: string): Promise<{ size: number; stream: Readable }> {
    // The first chunk comes with the open: a small file is one round trip, and no handle.
    const o = await run('open', 'open', sandboxAbsolute(path), { path: at(path), first: CHUNK })
    const h = o.h
    const first = o.raw ?? Buffer.alloc(0)
    let eof = o.eof === true || first.length < CHUNK
    let closed = o.eof === true
    const close = () => {
      if (closed) return Promise.resolve()
      closed = true
      return run('close', 'close', sandboxAbsolute(path), { h }).then(() => {}, () => {})
    }
    // Up to WINDOW chunks are asked for ahead, in order; a short one is the end of the file.
    let next = first.length
    const ahead: Array<Promise<Buffer>> = []
    const fill = () => {
      while (!eof && ahead.length < WINDOW) {
        const read = run('pread', 'read', sandboxAbsolute(path), { h, offset: next, length: CHUNK }).then((r) => r.raw ?? Buffer.alloc(0))
        read.catch(() => {}) // awaited in turn
        ahead.push(read)
        next += CHUNK
      }
    }
    let started = false
    const stream = new Readable({
      highWaterMark: CHUNK,
      read() {
        if (!started) {
          started = true
          if (first.length) this.push(first)
          if (eof) void close().then(() => this.push(null))
          else fill()
          return
        }
        const read = ahead.shift()
        if (!read) return
        read.then((b) => {
          if (b.length < CHUNK) {
            eof = true
            ahead.length = 0
          }
          if (b.length) this.push(b)
          if (eof) void close().then(() => this.push(null))
          else fill()
        }, (e: Error) => this.destroy(e))
      },
      destroy(error, done) {
        eof = true
        void Promise.allSettled(ahead).then(close).then(() => done(error))
      },
    })
    return { size: num(o.size), stream }
  }

  async function writeStream(path: string, source: Readable): Promise<number> {
    const h = (await run('wopen', 'open', sandboxAbsolute(path), { path: at(path) })).h
    let written = 0
    let pending: Buffer[] = []
    let pendingBytes = 0
    // Up to WINDOW chunks travel at once (the agent takes them in order): bounded memory, and
    // the source is read while the agent writes.
    const inflight = new Set<Promise<unknown>>()
    const send = async (piece: Buffer) => {
      const write = run('pwrite', 'write', sandboxAbsolute(path), { h }, undefined, piece)
      const settled = write.then(() => void (written += piece.length)).finally(() => inflight.delete(settled))
      settled.catch(() => {}) // awaited below
      inflight.add(settled)
      if (inflight.size >= WINDOW) await Promise.race(inflight)
    }
    const flush = async () => {
      if (!pendingBytes) return
      const data = Buffer.concat(pending, pendingBytes)
      pending = []
      pendingBytes = 0
      for (let offset = 0; offset < data.length; offset += CHUNK) await send(data.subarray(offset, offset + CHUNK))
    }
    try {
      for await (const chunk of source as AsyncIterable<Buffer | string>) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
        pending.push(b)
        pendingBytes += b.length
        if (pendingBytes >= CHUNK) await flush()
      }
      await flush()
      await Promise.all(inflight)
      await run('close', 'rename', sandboxAbsolute(path), { h, commit: true })
      return written
    } catch (e) {
      source.destroy()
      await Promise.allSettled(inflight)
      await run('close', 'close', sandboxAbsolute(path), { h }).catch(() => {})
      throw e
    }
  }

  return {
    stat: stat as SandboxFs['stat'],
    readFile,
    writeFile,
    mkdir: async (path) => void (await run('mkdir', 'mkdir', sandboxAbsolute(path), { path: at(path) })),
    move: async (source, destination) => void (await run('move', 'rename', sandboxAbsolute(source), { source: at(source, false), destination: at(destination, false) })),
    remove: async (path) => void (await run('remove', 'rm', sandboxAbsolute(path), { path: at(path, false) })),
    list,
    diskUsage: async (path, options) => num((await run('du', 'scandir', sandboxAbsolute(path), { path: at(path), limit: options.limit })).bytes),
    walk,
    openRead,
    writeStream,
  }
}
