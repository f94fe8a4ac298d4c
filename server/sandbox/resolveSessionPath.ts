import { lstatSync, readlinkSync } from 'node:fs'
import { join, posix } from 'node:path'

/** Default working directory (and HOME) inside every sandbox. */
export const SANDBOX_HOME = '/home/user'

/** A sandbox path turned absolute and normalised (relative paths start at /home/user; empty or missing is /home/user). */
export function sandboxAbsolute(path: string | undefined): string {
  return posix.resolve(SANDBOX_HOME, path || '.')
}

/** Options of {@link resolveSessionPath}. */
export interface ResolveSessionPathOptions {
  /**
   * Follow a symlink in the last component (default `true`, like `open`/`stat`). `false`
   * resolves only the parents (like `lstat`/`unlink`/`rename`): the link itself is addressed.
   */
  followLast?: boolean
}

/** More symlinks than this in one path is a loop (Linux uses 40 as well). */
const MAX_LINKS = 40

/**
 * Never use the result to open, create or remove a file under bubblewrap: sandboxed code can
 * swap a checked directory for a link before the host call follows the path. Session files are
 * reached through `sandbox.fs` (inside the sandbox); this mapping is for plain processes
 * (`isolation: 'none'`, not isolated anyway).
 *
 * Maps a path as the sandbox sees it (absolute, or relative to /home/user) to the host path
 * inside the session root, resolving symlinks the way the sandbox does: chroot-style, with the
 * session root as `/`. An absolute link target (`/etc/passwd`, or a host path of another
 * session) is looked up inside this session's root, and `..` stops at the root, so the result
 * is always the root or below it, whatever links sandboxed code planted. Components that do
 * not exist yet are kept as given (so the result can be created).
 *
 * The returned path always starts with `rootDir` as given (it is not itself realpath'd).
 * Paths under the read-only host binds of a bubblewrap sandbox (`/usr`, a few `/etc` files)
 * map to the session root's own (empty) mount points.
 * @param rootDir host directory that is the sandbox's `/`
 * @param sandboxPath absolute sandbox path, or relative to `/home/user`; empty means `/home/user`
 * @param options `followLast: false` to address a symlink itself
 * @returns a host path equal to `rootDir` or inside it
 * @throws Error with `code: 'ELOOP'` after more than 40 symlinks
 * @example
 * resolveSessionPath('/data/sessions/s1/root', 'notes.txt') // '/data/sessions/s1/root/home/user/notes.txt'
 */
export function resolveSessionPath(rootDir: string, sandboxPath: string, options: ResolveSessionPathOptions = {}): string {
  const followLast = options.followLast ?? true
  const pending = sandboxAbsolute(sandboxPath).split('/').filter(Boolean)
  const resolved: string[] = []
  let links = 0
  while (pending.length) {
    const part = pending.shift()!
    if (part === '.') continue
    if (part === '..') {
      resolved.pop() // the root's parent is the root
      continue
    }
    const host = join(rootDir, ...resolved, part)
    let isLink = false
    try {
      isLink = lstatSync(host).isSymbolicLink()
    } catch {
      // Missing (or below a non-directory): nothing further down can be a link.
    }
    if (!isLink || (!followLast && pending.length === 0)) {
      resolved.push(part)
      continue
    }
    if (++links > MAX_LINKS) throw Object.assign(new Error(`Too many levels of symbolic links: ${sandboxPath}`), { code: 'ELOOP' })
    const target = readlinkSync(host)
    if (target.startsWith('/')) resolved.length = 0 // absolute targets are sandbox paths
    pending.unshift(...target.split('/').filter(Boolean))
  }
  return join(rootDir, ...resolved)
}
