import type { SnapshotEntry } from '../../sandbox/SandboxFs.ts'
import type { Session } from '../../sessions/Session.ts'
import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { sandboxAbsolute } from '../../sandbox/resolveSessionPath.ts'
import { stringArg } from './toolArgs.ts'

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
/**
 * Entries remembered per session, all baselines together (each path's snapshot is kept until
 * its next call): without a bound, calls on many different directories (the ancestors of one
 * large tree, say) pile up snapshots in the server's memory. Past it, the least recently used
 * paths are forgotten, and their next call starts again with `[]`.
 */
const MAX_REMEMBERED = 2 * MAX_ENTRIES
const baselines = new WeakMap<Session, Map<string, Snapshot>>()

/** Stores `snap` as the newest baseline, forgetting the oldest ones past {@link MAX_REMEMBERED} entries. */
function remember(perSession: Map<string, Snapshot>, top: string, snap: Snapshot): void {
  perSession.delete(top) // re-inserted last: a Map iterates in insertion order, oldest first
  perSession.set(top, snap)
  let total = 0
  for (const kept of perSession.values()) total += kept.size
  for (const [path, kept] of perSession) {
    if (total <= MAX_REMEMBERED || path === top) break
    perSession.delete(path)
    total -= kept.size
  }
}

/** The entries below `path` (walked in the sandbox), keyed by sandbox path; `undefined` when it does not exist. */
async function snapshot(session: Session, path: string): Promise<{ top: string; snap: Snapshot | undefined }> {
  const walk = await session.sandbox.fs.walk(path, { want: 'snapshot', limit: MAX_ENTRIES })
  if (walk.missing || !walk.stat) return { top: walk.top, snap: undefined }
  const snap: Snapshot = new Map()
  const [dir, mtimeMs, size, ino] = walk.stat
  if (!dir) return { top: walk.top, snap: snap.set(walk.top, { dir, mtimeMs, size, ino }) }
  // top + rel, not posix.join: join builds each path piece by piece, a string of ~40 parts that
  // V8 keeps as such (over 1 KiB per remembered entry); rel is already a clean relative path.
  const prefix = walk.top.endsWith('/') ? walk.top : `${walk.top}/`
  for (const [rel, isDir, mtime, bytes, inode] of walk.entries as SnapshotEntry[]) snap.set(prefix + rel, { dir: isDir, mtimeMs: mtime, size: bytes, ino: inode })
  return { top: walk.top, snap }
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
 * first call sets the baseline and returns `[]`; a session's baselines hold 100 000 entries in
 * all, the least recently used paths forgotten first (their next call is a first call again).
 */
export const getFileChangeTool: Tool = {
  name: 'get_file_change',
  description: 'Changes (create/modify/delete) below a directory since the previous call for it; the first call returns [].',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  async run(args, { session }) {
    const path = stringArg(args, 'path')
    let perSession = baselines.get(session)
    if (!perSession) baselines.set(session, (perSession = new Map()))
    const { top, snap: after } = await snapshot(session, path)
    const before = perSession.get(top)
    if (!after && !before) return textResult(`Error: no such file or directory: ${sandboxAbsolute(path)}`, true)
    const now = after ?? new Map()
    remember(perSession, top, now)
    return textResult(JSON.stringify(before ? diff(before, now) : []))
  },
}
