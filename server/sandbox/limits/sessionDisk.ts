import { execFile } from 'node:child_process'
import { mkdir, open, readFile, rmdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { findExecutable } from '../findExecutable.ts'

const run = promisify(execFile)
const SBIN = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** The tools a per-session disk needs (root only): mkfs.ext4, mount, umount; `null` if one is missing. */
export function diskTools(): { mkfs: string; mount: string; umount: string } | null {
  const path = `${process.env.PATH ?? ''}:${SBIN}`
  const mkfs = findExecutable('mkfs.ext4', path)
  const mount = findExecutable('mount', path)
  const umount = findExecutable('umount', path)
  return mkfs && mount && umount ? { mkfs, mount, umount } : null
}

/**
 * Gives a session a disk of its own: a sparse ext4 image in the session directory (`disk.img`,
 * only blocks written take host space), loop-mounted `nosuid,nodev` as the session root and owned
 * by `uid`. A full disk is ENOSPC ("No space left on device") for the writer, as on a real
 * machine, and costs nothing in RAM. (A size-limited tmpfs would be simpler, but its pages are
 * RAM charged to the writer's memory cgroup: the disk would eat the memory limit and host RAM.)
 * Creation takes ~15 ms (mkfs skips the inode tables and the journal; the loop device is made on
 * demand by the kernel).
 * @throws Error when mkfs or mount fails
 */
export async function createSessionDisk(dir: string, rootDir: string, bytes: number, uid: number): Promise<void> {
  const tools = diskTools()
  if (!tools) throw new Error('mkfs.ext4, mount or umount not found')
  const image = join(dir, 'disk.img')
  const file = await open(image, 'wx', 0o600)
  try {
    await file.truncate(bytes)
  } finally {
    await file.close()
  }
  // -m 0: no blocks reserved for root (host-side writes get ENOSPC too); no journal: the image
  // is thrown away with the session, crash consistency buys nothing.
  // -i 8192: twice ext4's default inodes (package trees are many small files); their tables are
  // written lazily, so they cost nothing until used.
  await run(tools.mkfs, ['-q', '-F', '-i', '8192', '-E', `nodiscard,lazy_itable_init=1,root_owner=${uid}:${uid}`, '-O', '^has_journal', '-m', '0', image])
  await mkdir(rootDir, { recursive: true })
  await run(tools.mount, ['-o', 'loop,nosuid,nodev', image, rootDir])
  await rmdir(join(rootDir, 'lost+found')).catch(() => {})
}

/** Mount points at or below `dir` (deepest first), from /proc/self/mountinfo. */
async function mountsBelow(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '')
  const points = text.split('\n').map((line) => line.split(' ')[4]).filter((p): p is string => !!p)
    .map((p) => p.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(Number.parseInt(o, 8))))
  return points.filter((p) => p === dir || p.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length)
}

/**
 * Unmounts everything mounted at or below `dir` (a session root: its disk; its loop device is
 * freed with it). Busy mounts are detached lazily and go once their last user exits.
 */
export async function unmountBelow(dir: string): Promise<void> {
  const umount = diskTools()?.umount ?? 'umount'
  for (const point of await mountsBelow(dir)) {
    await run(umount, [point]).catch(() => run(umount, ['-l', point])).catch(() => {})
  }
}
