import type { ChildProcess } from 'node:child_process'

// Every sandbox process of every AgbLocal in this Node process. One 'exit' hook kills them all,
// so a test runner or CLI that exits without close() leaves no orphans behind (bwrap's
// --die-with-parent covers a hard kill of the server; plain processes would otherwise survive).
const live = new Set<ChildProcess>()
let hooked = false

/** Registers a detached child (its own process group) until it exits. */
export function registerProcess(child: ChildProcess): void {
  if (child.pid === undefined) return
  live.add(child)
  child.once('exit', () => live.delete(child))
  if (!hooked) {
    hooked = true
    process.once('exit', () => {
      for (const c of live) killProcessGroup(c)
    })
  }
}

/**
 * SIGKILLs the child's whole process group (children are spawned detached, pgid = pid). Also
 * after the leader exited: background members keep the group (and its id) alive.
 */
export function killProcessGroup(child: ChildProcess): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
}
