// Shared harness of the runtime matrix: AGB Local on a loopback port, the built-package check,
// child processes with timeouts that never outlive the suite, and the result line every
// runtime prints (see fixtures/flow.mjs).
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
