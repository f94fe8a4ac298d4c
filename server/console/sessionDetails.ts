import { readFile } from 'node:fs/promises'
import { availableParallelism, totalmem } from 'node:os'
import type { LocalConfig } from '../config.ts'
import type { Session } from '../sessions/Session.ts'

const CLOCK_TICKS = 100 // USER_HZ on every Linux architecture Node supports
const MAX_COMMAND = 300
const MAX_LISTED = 500
const MAX_STATTED = 200
/** Text shown in the file viewer at most; larger files are downloaded instead. */
export const MAX_VIEW_BYTES = 256 * 1024
const MAX_DISK_ENTRIES = 200_000

/** One process of a session's sandbox as the console lists it. */
export interface ProcessView {
  pid: number
  command: string
  state: string
  cpuSeconds: number
  rssBytes: number
}

/**
 * The session's live processes (host pids from its sandbox, details from /proc): command line,
 * state, CPU seconds and resident memory. The sandbox's own helper processes are not listed.
 */
export async function listProcesses(session: Session): Promise<ProcessView[]> {
  const rows = await Promise.all(session.sandbox.hostPids().map(async (pid): Promise<ProcessView | undefined> => {
    try {
      const [stat, status, cmdline] = await Promise.all([
        readFile(`/proc/${pid}/stat`, 'latin1'), readFile(`/proc/${pid}/status`, 'latin1'), readFile(`/proc/${pid}/cmdline`, 'utf8'),
      ])
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const command = cmdline.replace(/\0+$/, '').replaceAll('\0', ' ') || `[${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}]`
      return {
        pid,
        command: command.length > MAX_COMMAND ? `${command.slice(0, MAX_COMMAND)}…` : command,
        state: f[0] ?? '?',
        cpuSeconds: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS,
        rssBytes: Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0) * 1024,
      }
    } catch {
      return undefined // exited meanwhile
    }
  }))
  return rows.filter((r): r is ProcessView => !!r).sort((a, b) => a.pid - b.pid)
}

/** Resource use of a session against its limits (`null`: no limit applies). */
export interface MetricsView {
  at: number
  /** CPU cores busy since the previous sample (1 = one core fully used). */
  cpuCores: number
  memoryBytes: number
  diskBytes: number
  limits: { cpus: number | null; memory: number | null; disk: number | null }
  host: { cpus: number; memory: number }
}

const samples = new WeakMap<Session, { at: number; cpuSeconds: number }>()

/**
 * Samples a session's resource use: CPU and resident memory of its processes (/proc), disk
 * bytes its files take (counted inside its sandbox), and the limits in force. Kept apart from the
 * `get_metrics` tool so watching a session does not change what that tool reports to the agent.
 */
export async function sampleMetrics(config: LocalConfig, session: Session): Promise<MetricsView> {
  const processes = await listProcesses(session)
  const cpuSeconds = processes.reduce((n, p) => n + p.cpuSeconds, 0)
  const now = Date.now()
  const previous = samples.get(session) ?? { at: session.createdAt, cpuSeconds: 0 }
  samples.set(session, { at: now, cpuSeconds })
  const wall = Math.max(0.001, (now - previous.at) / 1000)
  const limited = config.isolation === 'bwrap' ? config.limitsPlan.limits : { cpus: null, memory: null, disk: null }
  return {
    at: now,
    cpuCores: Math.max(0, Math.round(((cpuSeconds - previous.cpuSeconds) / wall) * 1000) / 1000),
    memoryBytes: processes.reduce((n, p) => n + p.rssBytes, 0),
    diskBytes: await session.sandbox.fs.diskUsage('/', { limit: MAX_DISK_ENTRIES }).catch(() => 0),
    limits: { cpus: limited.cpus, memory: limited.memory, disk: limited.disk },
    host: { cpus: availableParallelism(), memory: totalmem() },
  }
}

/** One entry of a directory listing. */
export interface FileEntryView {
  name: string
  dir: boolean
  size?: number
}

/** A sandbox directory's entries (directories first, by name; at most 500), read inside the sandbox. */
export async function listFiles(session: Session, path: string): Promise<{ path: string; entries: FileEntryView[]; more: number } | null> {
  const list = await session.sandbox.fs.list(path)
  if (!list) return null
  list.sort((a, b) => Number(b.dir) - Number(a.dir) || a.name.localeCompare(b.name))
  const shown = list.slice(0, MAX_LISTED)
  const base = path.endsWith('/') ? path : `${path}/`
  const entries = await Promise.all(shown.map(async (e, i): Promise<FileEntryView> => {
    if (e.dir || i >= MAX_STATTED) return { name: e.name, dir: e.dir }
    const size = await session.sandbox.fs.stat(base + e.name).then((s) => s.size, () => undefined)
    return size === undefined ? { name: e.name, dir: false } : { name: e.name, dir: false, size }
  }))
  return { path, entries, more: list.length - shown.length }
}

/** A file's text for the viewer: `text` when it is UTF-8 without NUL bytes and small enough. */
export async function viewFile(session: Session, path: string): Promise<{ path: string; size: number; text?: string; reason?: string }> {
  const read = await session.sandbox.fs.readFile(path, { max: MAX_VIEW_BYTES })
  if (!read.data) return { path, size: read.size, reason: `larger than ${MAX_VIEW_BYTES / 1024} KiB: download it` }
  if (read.data.includes(0)) return { path, size: read.size, reason: 'binary file: download it' }
  try {
    return { path, size: read.size, text: new TextDecoder('utf-8', { fatal: true }).decode(read.data) }
  } catch {
    return { path, size: read.size, reason: 'not UTF-8 text: download it' }
  }
}
