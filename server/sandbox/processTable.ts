import { readdirSync, readFileSync } from 'node:fs'

/** One row of the host process table. */
export interface ProcessRow {
  pid: number
  ppid: number
  /** Process state letter from /proc/<pid>/stat (`Z` for a zombie). */
  state: string
}

/**
 * Reads the host process table from /proc (Linux); empty elsewhere. Synchronous on purpose:
 * it also runs in the `process.on('exit')` cleanup.
 */
export function processTable(): ProcessRow[] {
  if (process.platform !== 'linux') return []
  const rows: ProcessRow[] = []
  let names: string[]
  try {
    names = readdirSync('/proc')
  } catch {
    return rows
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1')
      // Fields after "(comm)": state ppid pgrp ...; comm itself may hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      rows.push({ pid: Number(name), ppid: Number(fields[1]), state: fields[0] ?? '?' })
    } catch {
      // exited meanwhile
    }
  }
  return rows
}

/** Pids of every live (non-zombie) process below `root`, in breadth-first order. */
export function descendantsOf(root: number, rows: ProcessRow[] = processTable()): number[] {
  const children = new Map<number, number[]>()
  for (const row of rows) {
    if (row.state === 'Z') continue
    const list = children.get(row.ppid)
    if (list) list.push(row.pid)
    else children.set(row.ppid, [row.pid])
  }
  const found: number[] = []
  const todo = [root]
  while (todo.length) {
    for (const child of children.get(todo.shift()!) ?? []) {
      found.push(child)
      todo.push(child)
    }
  }
  return found
}

/** Host pids whose environment (as exec'd) holds `NAME=value` (Linux; empty elsewhere). */
export function pidsWithEnv(name: string, value: string): number[] {
  const needle = `\0${name}=${value}\0`
  const pids: number[] = []
  for (const row of processTable()) {
    if (row.state === 'Z' || row.pid === process.pid) continue
    try {
      if (`\0${readFileSync(`/proc/${row.pid}/environ`, 'latin1')}`.includes(needle)) pids.push(row.pid)
    } catch {
      // gone, or not ours to read
    }
  }
  return pids
}

/** True while `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  if (process.platform !== 'linux') return true
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** SIGKILLs each pid, ignoring those already gone. */
export function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
}
