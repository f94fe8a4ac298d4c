import { readFile, statfs } from 'node:fs/promises'
import { availableParallelism, totalmem } from 'node:os'
import type { Session } from '../sessions/Session.ts'
import type { Tool } from './Tool.ts'
import { textResult } from './Tool.ts'

const CLOCK_TICKS = 100 // USER_HZ on every Linux architecture Node supports
const MAX_DISK_ENTRIES = 200_000

interface ProcessUsage {
  /** Seconds of CPU (user + system) of the session's live processes. */
  cpuSeconds: number
  /** Bytes resident. */
  rss: number
}

/** Sums CPU time and RSS over every host process of the session (background jobs included). */
async function processUsage(session: Session): Promise<ProcessUsage> {
  const usage = { cpuSeconds: 0, rss: 0 }
  if (process.platform !== 'linux') return usage
  const pids = session.sandbox.hostPids()
  await Promise.all(pids.map(async (pid) => {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
      // Fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      usage.cpuSeconds += (Number(f[11]) + Number(f[12])) / CLOCK_TICKS
      const status = await readFile(`/proc/${pid}/status`, 'utf8')
      const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
      if (rss) usage.rss += Number(rss[1]) * 1024
    } catch {
      // exited meanwhile
    }
  }))
  return usage
}

/**
 * Bytes allocated on disk for the session's files (like `du`), counted inside its sandbox: a
 * walk from the host could be led onto host directories by links swapped in meanwhile.
 */
async function diskUsed(session: Session): Promise<number> {
  return session.sandbox.fs.diskUsage('/', { limit: MAX_DISK_ENTRIES }).catch(() => 0)
}

const lastSample = new WeakMap<Session, { at: number; cpuSeconds: number }>()

/**
 * `get_metrics` {} (§5.5): real numbers for the session: `cpu_count` (host CPUs),
 * `cpu_used_pct` (CPU used by the session's processes since the previous get_metrics call,
 * or since the session started, as % of all CPUs), `disk_total` (bytes of the file system
 * holding AGB Local's data), `disk_used` (bytes allocated by the session directory),
 * `mem_total` (host bytes), `mem_used` (RSS bytes of the session's processes, from /proc),
 * `timestamp` (ISO 8601). The network counters (`rx_*`, `tx_*`) are always 0: sandboxes share
 * the host network, so traffic cannot be attributed to a session.
 */
export const getMetricsTool: Tool = {
  name: 'get_metrics',
  description: 'Resource usage of the session: CPU, memory (RSS of its processes), disk (its files); network counters are 0 locally.',
  inputSchema: { type: 'object', properties: {} },
  async run(_args, { config, session }) {
    const cpuCount = availableParallelism()
    const [usage, used, fsStats] = await Promise.all([processUsage(session), diskUsed(session), statfs(config.dataDir).catch(() => undefined)])
    const now = Date.now()
    const previous = lastSample.get(session) ?? { at: session.createdAt, cpuSeconds: 0 }
    lastSample.set(session, { at: now, cpuSeconds: usage.cpuSeconds })
    const wall = Math.max(0.001, (now - previous.at) / 1000)
    const pct = Math.max(0, Math.min(100, ((usage.cpuSeconds - previous.cpuSeconds) / wall / cpuCount) * 100))
    return textResult(JSON.stringify({
      cpu_count: cpuCount,
      cpu_used_pct: Math.round(pct * 100) / 100,
      disk_total: fsStats ? fsStats.blocks * fsStats.bsize : 0,
      disk_used: used,
      mem_total: totalmem(),
      mem_used: usage.rss,
      rx_rate_kbyte_per_s: 0,
      tx_rate_kbyte_per_s: 0,
      rx_used_kbyte: 0,
      tx_used_kbyte: 0,
      timestamp: new Date(now).toISOString(),
    }))
  },
}
