import { existsSync, rmdirSync } from 'node:fs'
import { readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { removeCgroupDir } from './cgroups.ts'
import { OWNER_FILE } from './createConfinement.ts'
import { ownerAlive } from './ownerMark.ts'
import { releaseSandboxUid, sweepSandboxUids } from './sandboxUids.ts'
import { unmountBelow } from './sessionDisk.ts'

/** Marks a data directory AGB Local created itself (in the temp directory), with its owner. */
export const DATA_DIR_OWNER_FILE = '.agb-local-owner'

interface OwnerRecord {
  owner?: string
  uid?: number | null
  cgroups?: string[]
}

/** Removes one dead session directory: its cgroups, mounts, uid and files. */
async function cleanSession(dir: string, record: OwnerRecord): Promise<void> {
  for (const cgroup of record.cgroups ?? []) {
    // Only our own naming: never act on a path an edited owner file points elsewhere.
    if (!/\/agb-local\/(i-[0-9a-f]+\/)?(session|probe)-[0-9a-f]+$/.test(cgroup)) continue
    removeCgroupDir(cgroup)
    // Its AGB Local's own parent once empty, then the shared agb-local parent (v1 only: a v2
    // agb-local carries the subtree_control that live AGB Locals rely on).
    const parents = /\/i-[0-9a-f]+\/[^/]+$/.test(cgroup) ? [dirname(cgroup), dirname(dirname(cgroup))] : [dirname(cgroup)]
    for (const parent of parents) {
      if (parent.endsWith('/agb-local') && existsSync(join(parent, 'cgroup.subtree_control'))) continue
      try {
        rmdirSync(parent)
      } catch {}
    }
  }
  await unmountBelow(dir)
  if (typeof record.uid === 'number') releaseSandboxUid(record.uid)
  await rm(dir, { recursive: true, force: true, maxRetries: 3 })
}

/**
 * Session directories in `sessionsDir` whose AGB Local is gone (`ownerGone`: all of them, the
 * data directory's owner is dead). @returns how many were removed
 */
async function cleanSessionsDir(sessionsDir: string, ownerGone = false): Promise<number> {
  const names = await readdir(sessionsDir).catch(() => [] as string[])
  let cleaned = 0
  for (const name of names) {
    const dir = join(sessionsDir, name)
    let record: OwnerRecord
    try {
      record = JSON.parse(await readFile(join(dir, OWNER_FILE), 'utf8')) as OwnerRecord
    } catch {
      if (!ownerGone) continue // no owner file: not ours, or being created right now
      record = {}
    }
    if (!ownerGone && (typeof record.owner !== 'string' || ownerAlive(record.owner))) continue
    await cleanSession(dir, record)
    cleaned++
  }
  return cleaned
}

/**
 * Cleans what AGB Locals killed without shutting down (SIGKILL, OOM, power loss of the process)
 * left behind: session directories in `sessionsDir` and in the data directories they created
 * under the temp directory, with their mounted disks (and loop devices), cgroups and sandbox
 * uids. Only things whose recorded owner process no longer runs are touched, so AGB Locals
 * running side by side never clean each other.
 * @returns how many session directories were removed
 */
export async function cleanStale(sessionsDir: string): Promise<number> {
  sweepSandboxUids()
  let cleaned = await cleanSessionsDir(sessionsDir)
  const temp = tmpdir()
  for (const name of await readdir(temp).catch(() => [] as string[])) {
    if (!name.startsWith('agb-local-')) continue
    const dataDir = join(temp, name)
    let owner: string
    try {
      owner = await readFile(join(dataDir, DATA_DIR_OWNER_FILE), 'utf8')
    } catch {
      continue
    }
    if (ownerAlive(owner)) continue
    cleaned += await cleanSessionsDir(join(dataDir, 'sessions'), true)
    await unmountBelow(dataDir)
    await rm(dataDir, { recursive: true, force: true, maxRetries: 3 })
  }
  return cleaned
}
