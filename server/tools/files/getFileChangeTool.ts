import { lstat } from 'node:fs/promises'
import type { Session } from '../../sessions/Session.ts'
import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { hostPath, sandboxPath, sandboxPathOf } from './sessionPaths.ts'
import { stringArg } from './toolArgs.ts'
import { walkTree } from './walkTree.ts'

interface Entry {
  dir: boolean
  mtimeMs: number
  size: number
  ino: number
}

type Snapshot = Map<string, Entry>

interface FileChange {
  eventType: 'create' | 'modify' | 'delete'
  path: string
  pathType: 'file' | 'directory'
}

const MAX_ENTRIES = 50_000
const baselines = new WeakMap<Session, Map<string, Snapshot>>()

async function snapshot(session: Session, host: string): Promise<Snapshot | undefined> {
  const top = await lstat(host).catch(() => undefined)
  if (!top) return undefined
  const snap: Snapshot = new Map()
  const add = (path: string, st: { isDirectory(): boolean; mtimeMs: number; size: number; ino: number }) =>
    snap.set(sandboxPathOf(session, path), { dir: st.isDirectory(), mtimeMs: st.mtimeMs, size: st.size, ino: st.ino })
  if (!top.isDirectory()) {
    add(host, top)
    return snap
  }
  for await (const entry of walkTree(host, { limit: MAX_ENTRIES })) {
    const st = await lstat(entry.host).catch(() => undefined)
    if (st) add(entry.host, st)
  }
  return snap
}

function diff(before: Snapshot, after: Snapshot): FileChange[] {
  const events: FileChange[] = []
  const type = (e: Entry) => (e.dir ? 'directory' : 'file')
  for (const [path, old] of before) {
    const now = after.get(path)
    if (!now || now.dir !== old.dir) events.push({ eventType: 'delete', path, pathType: type(old) })
  }
  for (const [path, now] of after) {
    const old = before.get(path)
    if (!old || old.dir !== now.dir) events.push({ eventType: 'create', path, pathType: type(now) })
    // Directory mtimes change with their entries: only files report modifications.
    else if (!now.dir && (old.mtimeMs !== now.mtimeMs || old.size !== now.size || old.ino !== now.ino)) events.push({ eventType: 'modify', path, pathType: 'file' })
  }
  return events.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/**
 * `get_file_change` {path} (§5.3): JSON array of `{eventType: create|modify|delete, path,
 * pathType: file|directory}` for what changed below `path` since the previous call for the
 * same path in this session (a snapshot diff of sizes and mtimes, up to 50 000 entries). The
 * first call sets the baseline and returns `[]`.
 */
export const getFileChangeTool: Tool = {
  name: 'get_file_change',
  description: 'Changes (create/modify/delete) below a directory since the previous call for it; the first call returns [].',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  async run(args, { session }) {
    const path = stringArg(args, 'path')
    const host = hostPath(session, path)
    let perSession = baselines.get(session)
    if (!perSession) baselines.set(session, (perSession = new Map()))
    const before = perSession.get(host)
    const after = await snapshot(session, host)
    if (!after && !before) return textResult(`Error: no such file or directory: ${sandboxPath(path)}`, true)
    const now = after ?? new Map()
    perSession.set(host, now)
    return textResult(JSON.stringify(before ? diff(before, now) : []))
  },
}
