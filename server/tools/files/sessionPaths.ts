import { posix } from 'node:path'
import { SANDBOX_HOME } from '../../sandbox/resolveSessionPath.ts'

/** A sandbox path (absolute or relative to /home/user) normalised to absolute form, for messages. */
export function sandboxPath(path: string): string {
  return posix.resolve(SANDBOX_HOME, path || '.')
}
