import { open } from 'node:fs/promises'
import { constants } from 'node:fs'
import type { Session } from '../../sessions/Session.ts'
import { hostPath } from './sessionPaths.ts'

async function readSmall(session: Session, path: string): Promise<string> {
  try {
    const fh = await open(hostPath(session, path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    try {
      const buf = Buffer.alloc(64 * 1024)
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
      return buf.subarray(0, bytesRead).toString('utf8')
    } finally {
      await fh.close()
    }
  } catch {
    return ''
  }
}

function idMap(text: string): Map<number, string> {
  const map = new Map<number, string>()
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':')
    if (name && id !== undefined && /^\d+$/.test(id) && !map.has(Number(id))) map.set(Number(id), name)
  }
  return map
}

/** uid/gid → name as the sandbox sees them (its own /etc/passwd and /etc/group); numbers otherwise. */
export async function ownerNames(session: Session): Promise<{ user(uid: number): string; group(gid: number): string }> {
  const [users, groups] = await Promise.all([readSmall(session, '/etc/passwd'), readSmall(session, '/etc/group')])
  const u = idMap(users)
  const g = idMap(groups)
  return { user: (uid) => u.get(uid) ?? String(uid), group: (gid) => g.get(gid) ?? String(gid) }
}
