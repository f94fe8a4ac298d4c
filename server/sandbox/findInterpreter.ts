import { spawnSync } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'
import { dirname } from 'node:path'
import { findExecutable } from './findExecutable.ts'

/** Languages AGB Local can run. */
export type Runtime = 'python' | 'node' | 'java' | 'r'

/** An interpreter usable in a sandbox: its path and host directories to bind read-only. */
export interface Interpreter {
  command: string
  roBinds: string[]
}

const cache = new Map<string, Interpreter | null>()

function underUsr(path: string): boolean {
  return path.startsWith('/usr/')
}

/** Real python executable and prefix: pyenv-style shims need the host env, so ask python itself. */
function askPython(candidate: string): Interpreter | null {
  const res = spawnSync(candidate, ['-c', 'import sys; print(sys.executable); print(sys.base_prefix)'], { encoding: 'utf8', timeout: 10_000 })
  if (res.status !== 0) return null
  const [executable, prefix] = res.stdout.trim().split('\n')
  if (!executable || !prefix) return null
  return { command: executable, roBinds: underUsr(executable) ? [] : [prefix] }
}

function find(runtime: Runtime, sandboxed: boolean): Interpreter | null {
  switch (runtime) {
    case 'python': {
      // In a sandbox only /usr is visible: prefer the system python; outside, the user's PATH one.
      const candidates = sandboxed ? ['/usr/bin/python3', '/usr/local/bin/python3', findExecutable('python3')] : [findExecutable('python3'), '/usr/bin/python3']
      for (const c of candidates) {
        if (c && existsSync(c)) {
          const found = askPython(c)
          if (found) return found
        }
      }
      return null
    }
    case 'node': {
      for (const c of ['/usr/bin/node', '/usr/local/bin/node']) if (sandboxed && existsSync(c)) return { command: c, roBinds: [] }
      // The Node running AGB Local (e.g. an npm-installed Node 24): bind its install prefix.
      const exec = realpathSync(process.execPath)
      return { command: exec, roBinds: underUsr(exec) ? [] : [dirname(dirname(exec))] }
    }
    case 'java': {
      // The java kernel needs the JDK's jdk.jshell module: the `java` next to `jshell`, not
      // whatever `java` (maybe a JRE) comes first on PATH.
      const jshell = findExecutable('jshell')
      if (!jshell) return null
      const java = `${dirname(realpathSync(jshell))}/java`
      if (!existsSync(java)) return null
      return { command: java, roBinds: underUsr(java) ? [] : [dirname(dirname(java))] }
    }
    case 'r': {
      const found = findExecutable('Rscript')
      if (!found) return null
      const real = realpathSync(found)
      return { command: real, roBinds: underUsr(real) ? [] : [dirname(dirname(real))] }
    }
  }
}

/** Finds (once per process) the interpreter for a runtime, or `null` when it is not installed. */
export function findInterpreter(runtime: Runtime, sandboxed: boolean): Interpreter | null {
  const key = `${runtime}:${sandboxed}`
  if (!cache.has(key)) cache.set(key, find(runtime, sandboxed))
  return cache.get(key) ?? null
}
