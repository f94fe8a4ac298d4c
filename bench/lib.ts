// Shared helpers of the benchmark: statistics, formatting, timeouts, child processes and the
// one table every section appends its rows to.
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'

/** The repository root: children run here so `agb-micro` resolves to dist/ by self-reference. */
export const ROOT = resolve(import.meta.dirname, '..')
export const FIXTURES = resolve(import.meta.dirname, 'fixtures')

/** One line of the printed table. */
export interface Row {
  /** Section number and letter, e.g. `1b`. */
  id: string
  what: string
  result: string
  note: string
  /** Repetitions behind the figure (`1` for deterministic figures). */
  runs: string
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: number[]): number {
  if (!values.length) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** `12.3 ms`, `845 µs`, `1.52 s`. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a'
  if (ms < 1) return `${(ms * 1000).toFixed(ms < 0.1 ? 1 : 0)} µs`
  if (ms < 10) return `${ms.toFixed(2)} ms`
  if (ms < 100) return `${ms.toFixed(1)} ms`
  if (ms < 1000) return `${ms.toFixed(0)} ms`
  return `${(ms / 1000).toFixed(2)} s`
}

/** Bytes as `5,123 B (5.00 KiB)`-style text; KiB = 1024 B. */
export function fmtBytes(bytes: number): string {
  const b = `${Math.round(bytes).toLocaleString('en-US')} B`
  if (Math.abs(bytes) < 1024) return b
  return `${(bytes / 1024).toFixed(2)} KiB (${b})`
}

/** Memory growth as `+12.3 MiB`. */
export function fmtMiB(bytes: number): string {
  const mib = bytes / 1024 / 1024
  return `${mib >= 0 ? '+' : ''}${mib.toFixed(1)} MiB`
}

/** A whole number with thousands separators. */
export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US')

/** `1.07×` */
export const fmtRatio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a')

/** One line of an error for the `n/a (...)` cell. */
export function reason(error: unknown): string {
  const e = error as { code?: string; message?: string } | undefined
  const text = `${e?.code ? `${e.code}: ` : ''}${e?.message ?? String(error)}`.split('\n')[0]!.replace(/\|/g, '/')
  return text.length > 160 ? `${text.slice(0, 160)}…` : text
}

/** Rejects after `ms` with a timeout error naming `label` (the work itself is not cancelled). */
export async function withTimeout<T>(work: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: timed out after ${ms / 1000} s`)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Progress on stderr, so stdout carries only the table. */
export const progress = (text: string) => process.stderr.write(`bench: ${text}\n`)

/** A finished child process. */
export interface ChildRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Wall time from spawn to exit, milliseconds. */
  wallMs: number
}

/**
 * Runs a command to completion with a minimal environment and SIGKILLs it after `timeoutMs`.
 * Never rejects: the caller inspects the result.
 */
export function runChild(command: string, args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ChildRun> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', ...options.env }
  return new Promise((done) => {
    const started = performance.now()
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 30_000, killSignal: 'SIGKILL' })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    child.once('error', (error) => done({ code: null, signal: null, stdout, stderr: `${stderr}\nspawn failed: ${error.message}`, wallMs: performance.now() - started }))
    child.once('close', (code, signal) => done({ code, signal, stdout, stderr, wallMs: performance.now() - started }))
  })
}

/** Prefix of the one JSON line each fixture prints. */
export const RESULT_PREFIX = 'BENCH_RESULT '

/** The JSON a fixture printed, or an error with the child's stderr when it printed none. */
export function childResult<T>(run: ChildRun, label: string): T {
  const line = run.stdout.split('\n').reverse().find((l) => l.startsWith(RESULT_PREFIX))
  if (!line) {
    const status = run.signal ? `killed by ${run.signal}` : `exit code ${run.code}`
    const tail = (run.stderr.trim() || run.stdout.trim()).split('\n').slice(-3).join(' / ')
    throw new Error(`${label}: ${status}, no result${tail ? `: ${tail}` : ''}`)
  }
  const result = JSON.parse(line.slice(RESULT_PREFIX.length)) as T & { error?: string }
  if (result.error) throw new Error(`${label}: ${result.error}`)
  return result
}
