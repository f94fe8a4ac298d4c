import type { ChildProcess } from 'node:child_process'

// Every sandbox of every AgbLocal in this Node process. One 'exit' hook kills them all,
// so a test runner or CLI that exits without close() leaves no orphans behind (bwrap's
// --die-with-parent covers a hard kill of the server; plain processes would otherwise survive).
const cleanups = new Set<() => void>()
let hooked = false

/**
 * Runs `cleanup` (synchronous) if this Node process exits while it is registered.
 * @returns the function that unregisters it
 */
export function onHostExit(cleanup: () => void): () => void {
  cleanups.add(cleanup)
  if (!hooked) {
    hooked = true
    process.once('exit', () => {
      for (const fn of cleanups) {
        try {
          fn()
        } catch {
          // keep going: the others must run
        }
      }
    })
  }
  return () => cleanups.delete(cleanup)
}

/** Registers a detached child (its own process group): its group is killed on host exit until it exits. */
export function registerProcess(child: ChildProcess): void {
  if (child.pid === undefined) return
  const off = onHostExit(() => killProcessGroup(child))
  child.once('exit', off)
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
