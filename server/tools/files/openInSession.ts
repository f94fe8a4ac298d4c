import { constants } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { open, readlink, realpath } from 'node:fs/promises'
import { sep } from 'node:path'
import type { Session } from '../../sessions/Session.ts'

/**
 * Opens a host path produced by resolveSessionPath without following a symlink in the last
 * component (`O_NOFOLLOW`), without blocking on FIFOs (`O_NONBLOCK`), and, on Linux, checks
 * through `/proc/self/fd` that the opened file really is inside the session root: a directory
 * swapped for a symlink by sandboxed code between resolution and open is caught here.
 * @throws Error when the file lies outside the session root (the handle is closed)
 */
export async function openInSession(session: Session, host: string, flags: number, mode = 0o666): Promise<FileHandle> {
  const fh = await open(host, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode)
  if (process.platform !== 'linux') return fh
  try {
    const [actual, root] = await Promise.all([readlink(`/proc/self/fd/${fh.fd}`), realpath(session.rootDir)])
    if (actual !== root && !actual.startsWith(root + sep)) throw new Error('path escapes the sandbox')
    return fh
  } catch (e) {
    await fh.close()
    throw e
  }
}
