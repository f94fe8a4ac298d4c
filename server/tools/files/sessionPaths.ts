import { posix, relative, sep } from 'node:path'
import { resolveSessionPath, SANDBOX_HOME } from '../../sandbox/resolveSessionPath.ts'
import type { Session } from '../../sessions/Session.ts'

/** A sandbox path (absolute or relative to /home/user) normalised to absolute form, for messages. */
export function sandboxPath(path: string): string {
  return posix.resolve(SANDBOX_HOME, path || '.')
}

/** The host path of a sandbox path, symlinks resolved inside the root (see resolveSessionPath). */
export function hostPath(session: Session, path: string, followLast = true): string {
  return resolveSessionPath(session.rootDir, path, { followLast })
}

/** The sandbox path of a host path inside the session root. */
export function sandboxPathOf(session: Session, host: string): string {
  const rel = relative(session.rootDir, host)
  return '/' + (sep === '/' ? rel : rel.split(sep).join('/'))
}
