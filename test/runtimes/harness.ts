// Shared harness of the runtime matrix: AGB Local on a loopback port, the built-package check,
// child processes with timeouts that never outlive the suite, the result line every runtime
// prints (see fixtures/flow.mjs and fixtures/stream.mjs), and the checks on both flows.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { expect } from 'vitest'
import { createAgbLocal, serve } from '../../server/index.ts'
import type { AgbLocal } from '../../server/index.ts'

/** The repository root: every runtime runs with this cwd so `agb-micro` self-resolves. */
export const ROOT = resolve(import.meta.dirname, '../..')
export const FIXTURES = join(import.meta.dirname, 'fixtures')
/** Prefix of the one stdout line a runtime prints with its JSON result (fixtures/flow.mjs). */
export const RESULT_PREFIX = 'AGB_RUNTIME_RESULT '
/** A runtime process gets this long before it is killed (below vitest's 30 s test timeout). */
export const PROCESS_TIMEOUT_MS = 20_000

/** Debian's Chromium, driven by playwright-core (chromium.test.ts, ../examples-browser.test.ts). */
export const CHROMIUM = '/usr/bin/chromium'
/**
 * Flags that work on this project's CI machines (Debian Chromium as root). playwright adds a fresh temporary --user-data-dir itself
 * (and refuses one in `args`); it is removed when the browser closes.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Skips the calling test locally (fails it when `CI` is set) when Chromium is not installed. */
export function requireChromium(skip: (note: string) => never): void {
  if (existsSync(CHROMIUM)) return
  const install = 'apt-get update && apt-get install -y --no-install-recommends chromium'
  if (!process.env.CI) {
    console.warn(`[runtimes] SKIPPED Chromium: ${CHROMIUM} is missing (${install}). In CI this fails.`)
    skip(`${CHROMIUM} is missing: ${install}`)
  }
  throw new Error(`${CHROMIUM} is missing: the Chromium tests cannot be skipped in CI. Install it: ${install}`)
}

/** Fails with a clear message when `npm run build` has not produced dist/. */
export function requireDist(): void {
  if (!existsSync(join(ROOT, 'dist/index.mjs'))) {
    throw new Error('dist/index.mjs is missing: the runtime matrix tests the BUILT package. Run `npm run build` first (`npm test` does).')
  }
}

/** A listening AGB Local, one per test file. */
export interface LocalServer {
  local: AgbLocal
  url: string
  port: number
  apiKey: string
  close(): Promise<void>
}

/** Starts AGB Local on 127.0.0.1, ephemeral port. */
export async function startLocal(): Promise<LocalServer> {
  const local = createAgbLocal()
  const server = await serve(local, { port: 0 })
  return {
    local,
    url: server.url,
    port: server.port,
    apiKey: local.apiKey,
    close: async () => {
      await server.close()
      await local.close()
    },
  }
}

/** What a finished child process left behind. */
export interface ProcessRun {
  /** The command line, for failure messages. */
  command: string
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
}

const children = new Set<ChildProcess>()
/** Kills any runtime process still running (call from afterAll; timeouts normally did it). */
export function killChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  children.clear()
}

/**
 * Runs a command to completion with a minimal environment (no inherited proxies or keys), and
 * SIGKILLs it after `timeoutMs`. Never rejects for a failing command: the caller asserts.
 */
export function runProcess(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {},
): Promise<ProcessRun> {
  const started = Date.now()
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', ...options.env }
  return new Promise((done) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? PROCESS_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    })
    children.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    const finish = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      children.delete(child)
      if (error) stderr += `\n[harness] spawn failed: ${error.message}`
      done({ command: [command, ...args].join(' '), code, signal, stdout, stderr, ms: Date.now() - started })
    }
    child.once('error', (error) => finish(null, null, error))
    child.once('close', (code, signal) => finish(code, signal))
  })
}

/** The JSON object fixtures/flow.mjs returns. */
export interface FlowResult {
  runtime: string
  version: string
  ok: boolean
  step: string
  sessionId?: string
  success?: boolean
  stdout?: string
  deleted?: boolean
  error?: { name?: string; code?: string; message: string; stack?: string }
  ms: number
}

const tail = (text: string, max = 4000) => (text.length > max ? `...${text.slice(-max)}` : text)

/** Failure context for a process run: exit status, its stderr and stdout. */
export function describeRun(label: string, run: ProcessRun): string {
  const status = run.signal ? `killed by ${run.signal} after ${run.ms} ms (timeout ${PROCESS_TIMEOUT_MS} ms?)` : `exit code ${run.code} after ${run.ms} ms`
  return [`${label}: ${status}`, `$ ${run.command}`, '--- stderr ---', tail(run.stderr.trim()) || '(empty)', '--- stdout ---', tail(run.stdout.trim()) || '(empty)'].join('\n')
}

/** Extracts the result line a runtime printed; undefined when there is none. */
export function parseResultLine(stdout: string): FlowResult | undefined {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith(RESULT_PREFIX))
  return line ? (JSON.parse(line.slice(RESULT_PREFIX.length)) as FlowResult) : undefined
}

/**
 * Asserts the flow ran to the end in `runtime`: python's output came back and the session was
 * confirmed deleted. `context` (the runtime's stderr, logs ...) is in every failure message.
 */
export function expectFlowSucceeded(result: FlowResult | undefined, runtime: string, context: string): FlowResult {
  const where = result?.error ? `failed at ${result.step}: ${result.error.code ?? result.error.name}: ${result.error.message}\n${result.error.stack ?? ''}\n` : ''
  const message = `${runtime} flow ${result ? where : 'printed no result line\n'}${context}`
  expect(result, message).toBeDefined()
  expect(result, message).toMatchObject({ runtime, ok: true, step: 'done', success: true, deleted: true })
  expect(result!.stdout, message).toContain('hello from python')
  expect(result!.sessionId, message).toMatch(/\S/)
  return result!
}

/** Runs fixtures/cli.mjs-style entries in a child process and asserts the flow. */
export async function runCliFlow(
  runtime: string,
  command: string,
  args: string[],
  server: LocalServer,
  env: Record<string, string> = {},
): Promise<{ result: FlowResult; run: ProcessRun }> {
  const run = await runProcess(command, args, { env: { AGB_ENDPOINT: server.url, AGB_API_KEY: server.apiKey, ...env } })
  const result = expectFlowSucceeded(parseResultLine(run.stdout), runtime, describeRun(runtime, run))
  expect(run.code, describeRun(runtime, run)).toBe(0)
  return { result, run }
}

/** One event of fixtures/stream.mjs, with `at`: ms since `streamCode` was called, measured in the runtime. */
export type TimedEvent = { at: number } & (
  | { type: 'stdout' | 'stderr'; text: string }
  | { type: 'result'; result: { text?: string; isMainResult?: boolean } }
  | { type: 'error'; error: { name: string; value: string } }
  | { type: 'end'; status: string; executionCount?: number; executionTime: number; requestId: string }
)

/** The JSON object fixtures/stream.mjs returns. */
export interface StreamResult extends Omit<FlowResult, 'success' | 'stdout'> {
  /** How the runtime reached the session socket: `ws`, `global WebSocket`, `fetch Upgrade`, `proxy`. */
  transport: string
  events: TimedEvent[]
}

/** What the stream test reports: arrival times in the runtime, ms after `streamCode` was called. */
export interface StreamTimings {
  firstStdoutMs: number
  lastStdoutMs: number
  endMs: number
}

/** The lines fixtures/stream.mjs's STREAM_PROGRAM prints, in order, and on which stream. */
const STREAM_LINES = ['out 0', 'out 1', 'out 2', 'err mid', 'out 3', 'out 4', 'out 5']
/** The first stdout line must arrive at least this long before the `end` event (the program runs ~0.7 s after it). */
export const STREAM_EARLY_MS = 300

/**
 * Asserts the streamed run in `runtime` (issue 5): the first stdout line arrived more than
 * STREAM_EARLY_MS before the end, every line arrived once and in order, stdout and stderr
 * stayed apart, the result came, and the one last `end` event says `finished`; the session
 * was deleted. Returns the arrival times.
 */
export function expectStreamSucceeded(result: StreamResult | undefined, runtime: string, context: string): StreamTimings {
  const where = result?.error ? `failed at ${result.step}: ${result.error.code ?? result.error.name}: ${result.error.message}\n${result.error.stack ?? ''}\n` : ''
  const timeline = result?.events?.length ? `--- events (at ms: event) ---\n${result.events.map((e) => `${e.at}: ${JSON.stringify({ ...e, at: undefined })}`).join('\n')}\n` : ''
  const message = `${runtime} stream ${result ? where : 'printed no result line\n'}${timeline}${context}`
  expect(result, message).toBeDefined()
  expect(result, message).toMatchObject({ runtime, ok: true, step: 'done', deleted: true })
  expect(result!.sessionId, message).toMatch(/\S/)
  const events = result!.events
  const output = events.filter((e): e is Extract<TimedEvent, { type: 'stdout' | 'stderr' }> => e.type === 'stdout' || e.type === 'stderr')
  // In order, each line once, each on its own stream (a chunk may hold several lines).
  const lines = output.flatMap((e) => e.text.split('\n').filter(Boolean).map((line) => `${e.type}: ${line}`))
  expect(lines, message).toEqual(STREAM_LINES.map((line) => `${line.startsWith('err') ? 'stderr' : 'stdout'}: ${line}`))
  expect(output.filter((e) => e.type === 'stdout').map((e) => e.text).join(''), message).toBe('out 0\nout 1\nout 2\nout 3\nout 4\nout 5\n')
  expect(output.filter((e) => e.type === 'stderr').map((e) => e.text).join(''), message).toBe('err mid\n')
  expect(events.filter((e) => e.type === 'error'), message).toEqual([])
  expect(events.filter((e) => e.type === 'result').map((e) => (e as { result: { text?: string } }).result.text), message).toEqual(['42'])
  // Exactly one `end`, last, carrying the status.
  const end = events.at(-1)
  expect(events.filter((e) => e.type === 'end'), message).toHaveLength(1)
  expect(end, message).toMatchObject({ type: 'end', status: 'finished', requestId: expect.stringMatching(/\S/) })
  const { executionTime, executionCount } = end as Extract<TimedEvent, { type: 'end' }>
  expect(executionTime, message).toBeGreaterThan(0.5)
  expect(executionCount, message).toEqual(expect.any(Number))
  // Arrival times: non-decreasing, the first line well before the end, the lines spread out (not one batch).
  const at = events.map((e) => e.at)
  expect(at, message).toEqual([...at].sort((a, b) => a - b))
  const stdout = output.filter((e) => e.type === 'stdout')
  const timings = { firstStdoutMs: stdout[0]!.at, lastStdoutMs: stdout.at(-1)!.at, endMs: end!.at }
  expect(timings.firstStdoutMs, `${message}\nfirst stdout line must arrive > ${STREAM_EARLY_MS} ms before the end`).toBeLessThan(timings.endMs - STREAM_EARLY_MS)
  expect(timings.lastStdoutMs - timings.firstStdoutMs, `${message}\nstdout lines arrived in one batch`).toBeGreaterThan(STREAM_EARLY_MS)
  return timings
}

/** One line for the test's annotation: the arrival times. */
export const describeTimings = (result: StreamResult, t: StreamTimings) =>
  `${[result.runtime, /(Headless)?Chrome\/[\d.]+/.exec(result.version)?.[0] ?? result.version].filter(Boolean).join(' ')} via ${result.transport}: first stdout at ${t.firstStdoutMs} ms, last at ${t.lastStdoutMs} ms, end at ${t.endMs} ms`

/** Runs fixtures/cli.mjs `stream` in a child process and asserts the streamed run. */
export async function runCliStream(
  runtime: string,
  command: string,
  args: string[],
  server: LocalServer,
  env: Record<string, string> = {},
): Promise<{ result: StreamResult; timings: StreamTimings; run: ProcessRun }> {
  const run = await runProcess(command, args, { env: { AGB_ENDPOINT: server.url, AGB_API_KEY: server.apiKey, ...env } })
  const result = parseResultLine(run.stdout) as unknown as StreamResult | undefined
  const timings = expectStreamSucceeded(result, runtime, describeRun(runtime, run))
  expect(run.code, describeRun(runtime, run)).toBe(0)
  return { result: result!, timings, run }
}
