import { isAbsolute, posix, relative, resolve, sep } from 'node:path'

/** Default working directory (and HOME) inside every sandbox. */
export const SANDBOX_HOME = '/home/user'

/**
 * Maps a path as the sandbox sees it (absolute, or relative to /home/user) to the host path
 * inside the session root. Lexical only: `..` cannot climb above the root. Callers that open
 * files must still refuse symlinks pointing outside (phase 2 file tools check realpath).
 * @throws Error when the path escapes the session root.
 */
export function resolveSessionPath(rootDir: string, sandboxPath: string): string {
  const absolute = posix.resolve(SANDBOX_HOME, sandboxPath || '.')
  const host = resolve(rootDir, '.' + absolute)
  const rel = relative(rootDir, host)
  if (rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) {
    throw new Error(`path escapes the sandbox: ${sandboxPath}`)
  }
  return host
}
