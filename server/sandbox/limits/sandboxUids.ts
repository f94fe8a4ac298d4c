import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { ownerAlive, ownerMark } from './ownerMark.ts'

/**
 * Host uids (and gids) given to sandboxes when AGB Local runs as root: one per live session, so
 * a session's processes count against its own RLIMIT_NPROC only, and no session owns another's
 * files. The range starts at 2^30, far above system users and the subordinate-id ranges
 * (/etc/subuid, from 100000 in steps of 65536) that rootless containers map.
 */
export const SANDBOX_UID_BASE = 1_073_741_824
const RANGE = 1 << 20

/**
 * Uids in use, one file each, machine-wide (several AGB Locals may run): created with O_EXCL so
 * two never take the same uid. /run is root-only and emptied at boot.
 */
const LOCK_DIR = '/run/agb-local/uids'

/** Takes a free sandbox uid. @throws Error when the lock directory cannot be written */
export function allocateSandboxUid(): number {
  mkdirSync(LOCK_DIR, { recursive: true, mode: 0o700 })
  const start = Math.floor(Math.random() * RANGE)
  for (let i = 0; i < 1000; i++) {
    const uid = SANDBOX_UID_BASE + ((start + i) % RANGE)
    let fd: number
    try {
      fd = openSync(join(LOCK_DIR, String(uid)), 'wx', 0o600)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw e
    }
    writeSync(fd, ownerMark())
    closeSync(fd)
    return uid
  }
  throw new Error('AGB Local: no free sandbox uid')
}

/** Gives a uid back. */
export function releaseSandboxUid(uid: number): void {
  rmSync(join(LOCK_DIR, String(uid)), { force: true })
}

/** Frees the uids of AGB Locals that died without releasing them. */
export function sweepSandboxUids(): void {
  let names: string[]
  try {
    names = readdirSync(LOCK_DIR)
  } catch {
    return
  }
  for (const name of names) {
    try {
      if (ownerAlive(readFileSync(join(LOCK_DIR, name), 'utf8'))) continue
      rmSync(join(LOCK_DIR, name), { force: true })
    } catch {}
  }
}
