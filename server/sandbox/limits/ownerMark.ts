import { readFileSync } from 'node:fs'

/**
 * Identifies a process across pid reuse: its pid and its start time (clock ticks since boot,
 * field 22 of /proc/<pid>/stat). Written next to everything a running AGB Local creates, so a
 * later one can tell leftovers of a dead instance from the files of a live one.
 */
export function ownerMark(pid = process.pid): string {
  return `${pid} ${startTime(pid) ?? 0}`
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/** Whether the process an {@link ownerMark} names is still running (unknown marks count as alive). */
export function ownerAlive(mark: string): boolean {
  const [pid, start] = mark.trim().split(' ')
  if (!pid || !/^\d+$/.test(pid)) return true
  const now = startTime(Number(pid))
  return now !== undefined && (start === '0' || now === start)
}
