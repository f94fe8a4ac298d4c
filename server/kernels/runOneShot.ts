import { randomBytes } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { LocalConfig } from '../config.ts'
import { findInterpreter } from '../sandbox/findInterpreter.ts'
import { resolveSessionPath } from '../sandbox/resolveSessionPath.ts'
import { runInSession } from '../sandbox/runInSession.ts'
import { processPath } from '../sandbox/spawnInSession.ts'
import type { Session } from '../sessions/Session.ts'
import { CANCELLED } from './createKernel.ts'
import type { KernelError, KernelRun } from './createKernel.ts'

/** Languages run as one process per call (no state between calls). */
export type OneShotLanguage = 'java' | 'r'

/** Single-file source mode needs a class; bare statements are wrapped into `Main.main`. */
function javaSource(code: string): string {
  if (/\b(class|interface|record|enum)\s+\w+/.test(code)) return code
  return `public class Main {\n  public static void main(String[] args) throws Exception {\n${code}\n  }\n}\n`
}

function javaError(stderr: string, exitCode: number): KernelError {
  const thrown = /^Exception in thread "[^"]*" ([\w.$]+)(?::\s*(.*))?$/m.exec(stderr)
  if (thrown) return { name: thrown[1]!.split('.').pop()!, value: thrown[2] ?? '', traceback: stderr }
  if (/error: compilation failed/.test(stderr)) return { name: 'CompilationError', value: stderr.split('\n')[0] ?? '', traceback: stderr }
  return { name: 'Error', value: `process exited with code ${exitCode}`, traceback: stderr }
}

/**
 * Runs java (`java File.java` single-file source mode) or R (`Rscript`) once in the session
 * sandbox. Returns `null` when the interpreter is not installed on this host. Aborting `signal`
 * kills the run (error `Cancelled`).
 */
export async function runOneShot(config: LocalConfig, session: Session, language: OneShotLanguage, code: string, timeoutMs: number, signal?: AbortSignal): Promise<KernelRun | null> {
  const interpreter = findInterpreter(language, config.isolation === 'bwrap')
  if (!interpreter) return null
  const count = (session.executionCounts.get(language) ?? 0) + 1
  session.executionCounts.set(language, count)
  const file = language === 'java' ? `/tmp/.agb-java-${randomBytes(6).toString('hex')}/Main.java` : `/tmp/.agb-r-${randomBytes(6).toString('hex')}.R`
  const hostFile = resolveSessionPath(session.rootDir, file)
  await mkdir(dirname(hostFile), { recursive: true })
  await writeFile(hostFile, language === 'java' ? javaSource(code) : code)
  const started = performance.now()
  try {
    const res = await runInSession(config, session, { argv: [interpreter.command, processPath(config, session, file)], roBinds: interpreter.roBinds, timeoutMs, signal })
    let error: KernelError | null = null
    if (signal?.aborted) error = CANCELLED
    else if (res.timedOut) error = { name: 'TimeoutError', value: `Execution timed out after ${timeoutMs / 1000} seconds`, traceback: '' }
    else if (res.exitCode !== 0) error = language === 'java' ? javaError(res.stderr, res.exitCode) : { name: 'Error', value: res.stderr.trim().split('\n').pop() ?? '', traceback: res.stderr }
    return {
      results: [],
      stdout: res.stdout ? [res.stdout] : [],
      stderr: res.stderr ? [res.stderr] : [],
      error,
      executionCount: count,
      executionTime: Math.round(performance.now() - started) / 1000,
    }
  } finally {
    await rm(language === 'java' ? dirname(hostFile) : hostFile, { recursive: true, force: true })
  }
}
