// Every example of examples/ run in its own runtime against a loopback AGB Local, as a user would
// run it: Node examples through tsx, deno.ts through Deno (network limited to AGB Local's port),
// bun.ts through Bun, the Cloudflare Worker bundled by esbuild and run by miniflare (workerd, no
// nodejs_compat). Each test asserts on what the example printed or answered, and that AGB Local
// has no live session left afterwards. The examples import the BUILT package: `npm run build`.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { build } from 'esbuild'
import type { StdinOptions } from 'esbuild'
import { Miniflare } from 'miniflare'
import type { MiniflareOptions } from 'miniflare'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ROOT, describeRun, killChildren, requireDist, runProcess, startLocal } from './runtimes/harness.ts'
import type { LocalServer, ProcessRun } from './runtimes/harness.ts'

const BIN = join(ROOT, 'node_modules/.bin')
const WORKER_DIR = join(ROOT, 'examples/cloudflare-worker')

let server: LocalServer
let tmp: string

beforeAll(() => {
  requireDist()
  tmp = mkdtempSync(join(tmpdir(), 'agb-examples-'))
})

// A fresh AGB Local per test: a session one example leaks cannot fail the next one.
beforeEach(async () => {
  server = await startLocal()
})

afterEach(async () => {
  killChildren()
  await server?.close()
})

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

/** The example's configuration, as its users set it. */
const agbEnv = (): Record<string, string> => ({ AGB_ENDPOINT: server.url, AGB_API_KEY: server.apiKey })

/** Runs an example to completion; fails with its stderr/stdout unless it exited 0. */
async function runExample(command: string, args: string[], env: Record<string, string> = {}): Promise<ProcessRun> {
  const run = await runProcess(command, args, { env: { ...agbEnv(), ...env } })
  expect(run.code, describeRun(args.at(-1)!, run)).toBe(0)
  return run
}

/** Asserts that every line pattern appears in `stdout` (the run is in the failure message). */
function expectLines(run: ProcessRun, ...patterns: RegExp[]): void {
  for (const pattern of patterns) expect(run.stdout, describeRun(run.command, run)).toMatch(pattern)
}

const expectNoLiveSessions = () => expect(server.local.liveSessions(), 'sessions left behind in AGB Local').toBe(0)

describe('examples in Node (tsx)', () => {
  const tsx = (file: string, env?: Record<string, string>) => runExample(join(BIN, 'tsx'), [`examples/${file}`], env)

  it('session-manager.ts creates two named sessions, runs code in each, and cleans both up', async () => {
    const run = await tsx('session-manager.ts')
    expectLines(
      run,
      /^created session development: \S+$/m,
      /^created session testing: \S+$/m,
      /^development says: Development environment$/m,
      /^testing says: Testing environment$/m,
      /^deleted session development$/m,
      /^deleted session testing$/m,
    )
    expectNoLiveSessions()
  })

  it('concurrent.ts runs three tasks in three sessions at once and deletes them all', async () => {
    const run = await tsx('concurrent.ts')
    expectLines(run, /^Session \S+: Task 1: 45$/m, /^Session \S+: Task 2: 2,4,6$/m, /^Session \S+: Task 3: Linux$/m, /^3\/3 tasks succeeded in \d+ ms; no session left behind$/m)
    const ids = [...run.stdout.matchAll(/^Session (\S+):/gm)].map((m) => m[1])
    expect(new Set(ids).size, run.stdout).toBe(3)
    expectNoLiveSessions()
  })

  it('concurrent.ts reports each failed task and exits non-zero (an unknown image)', async () => {
    const run = await runProcess(join(BIN, 'tsx'), ['examples/concurrent.ts'], { env: { ...agbEnv(), AGB_IMAGE_ID: 'no-such-image' } })
    expect(run.code, describeRun('concurrent.ts', run)).toBe(1)
    expect(run.stdout.match(/^Session unknown: failed: .*Invalid image_id: no-such-image \((?:[A-Z]+ \S+, )?request \S+\)$/gm)).toHaveLength(3)
    expectLines(run, /^0\/3 tasks succeeded/m)
    expectNoLiveSessions()
  })

  it('health-check.ts passes its checks, recreates the session it lost, and deletes the new one', async () => {
    const run = await tsx('health-check.ts', { HEALTH_ROUNDS: '4', HEALTH_INTERVAL_MS: '50', HEALTH_LOSE_AT: '3' })
    const first = /^session created: (\S+)$/m.exec(run.stdout)?.[1]
    const second = /^session recreated: (\S+)$/m.exec(run.stdout)?.[1]
    expectLines(
      run,
      new RegExp(`^health check 1: OK \\(session ${first}\\)$`, 'm'),
      new RegExp(`^health check 2: OK \\(session ${first}\\)$`, 'm'),
      /^ {2}probe failed: session_not_found$/m,
      /^health check 3: FAILED, recreating the session$/m,
      new RegExp(`^health check 4: OK \\(session ${second}\\)$`, 'm'),
      new RegExp(`^session deleted: ${second}$`, 'm'),
    )
    expect(second).not.toBe(first)
    expectNoLiveSessions()
  })

  it('health-check.ts never recreates a healthy session', async () => {
    const run = await tsx('health-check.ts', { HEALTH_ROUNDS: '2', HEALTH_INTERVAL_MS: '50', HEALTH_LOSE_AT: '0' })
    expectLines(run, /^health check 1: OK/m, /^health check 2: OK/m, /^session deleted: \S+$/m)
    expect(run.stdout).not.toMatch(/FAILED|recreated/)
    expectNoLiveSessions()
  })
})

describe('examples/serverless.ts', () => {
  /** Starts `tsx examples/serverless.ts` on an ephemeral port; resolves with its URL. */
  async function serveExample(): Promise<{ url: string; stop: () => Promise<void>; output: () => string }> {
    const child: ChildProcess = spawn(join(BIN, 'tsx'), ['examples/serverless.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, NO_COLOR: '1', PORT: '0', ...agbEnv() },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
      killSignal: 'SIGKILL',
    })
    let output = ''
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serverless.ts did not start listening:\n${output}`)), 10_000)
      const onData = (s: string) => {
        output += s
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
        if (m) {
          clearTimeout(timer)
          resolve(m[1]!)
        }
      }
      child.stdout!.setEncoding('utf8').on('data', onData)
      child.stderr!.setEncoding('utf8').on('data', (s: string) => (output += s))
      child.once('close', (code) => reject(new Error(`serverless.ts exited (${code}) before listening:\n${output}`)))
    })
    return {
      url,
      output: () => output,
      stop: async () => {
        child.kill('SIGTERM')
        await exited
      },
    }
  }

  const post = (url: string, body: unknown) =>
    fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(15_000) }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }))

  it('serves the handler when run directly: code runs in a fresh session that is deleted before the answer', async () => {
    const served = await serveExample()
    try {
      const py = await post(served.url, { code: "print('hi from python')\n6 * 7" })
      expect(py, served.output()).toEqual({ status: 200, json: { stdout: 'hi from python\n', stderr: '', text: '42', error: null } })
      expectNoLiveSessions()

      const js = await post(served.url, { code: "console.log('hi from js')", language: 'javascript' })
      expect(js.status, served.output()).toBe(200)
      expect(js.json.stdout).toBe('hi from js\n')

      const failing = await post(served.url, { code: '1 / 0' })
      expect(failing.status).toBe(200)
      expect(failing.json.error).toMatchObject({ name: 'ZeroDivisionError', value: 'division by zero' })

      expect((await post(served.url, 'not json')).status).toBe(400)
      expect((await post(served.url, { code: 42 })).status).toBe(400)
      const badLanguage = await post(served.url, { code: '1', language: 'cobol' })
      expect(badLanguage).toMatchObject({ status: 400, json: { code: 'invalid_input' } })
      expectNoLiveSessions()
    } finally {
      await served.stop()
    }
  })

  it('the default export is a plain fetch handler: it runs unchanged as a Worker in workerd', async () => {
    const { code } = await bundleWorker({
      stdin: { contents: "import handler from './examples/serverless.ts'\nexport default { fetch: (request, env) => handler(request, env) }", resolveDir: ROOT, loader: 'ts', sourcefile: 'serverless-worker.ts' },
    })
    const mf = new Miniflare({ ...miniflareBase(), script: code })
    try {
      const response = await mf.dispatchFetch('http://worker.test/', { method: 'POST', body: JSON.stringify({ code: 'print(sum(range(5)))' }), signal: AbortSignal.timeout(15_000) })
      expect(await response.json()).toEqual({ stdout: '10\n', stderr: '', text: null, error: null })
      expectNoLiveSessions()
    } finally {
      await mf.dispose()
    }
  })
})

describe('examples/deno.ts and examples/bun.ts', () => {
  const expectFlow = (run: ProcessRun, runtime: RegExp) =>
    expectLines(run, /^session created: \S+$/m, /^python stdout: Hello from Python 3\.\d+\.\d+$/m, /^python result: 42$/m, /^command exit 0: hello from Linux$/m, runtime)

  it('deno.ts runs in Deno with network limited to AGB Local', async () => {
    const denoDir = mkdtempSync(join(tmp, 'deno-'))
    const run = await runExample(
      join(BIN, 'deno'),
      [
        'run',
        '--node-modules-dir=manual',
        '--cached-only',
        '--no-remote',
        '--no-lock',
        '--no-prompt',
        `--allow-net=127.0.0.1:${server.port}`,
        // Deno.env.toObject() needs every variable (a list such as --allow-env=AGB_API_KEY is refused).
        '--allow-env',
        'examples/deno.ts',
      ],
      { DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1' },
    )
    expectFlow(run, /^session deleted \(Deno 2\.\d+\.\d+\)$/m)
    expectNoLiveSessions()
  })

  it('deno.ts without AGB_API_KEY fails naming the missing variable', async () => {
    const run = await runProcess(join(BIN, 'deno'), ['run', '--node-modules-dir=manual', '--cached-only', '--no-remote', '--no-lock', '--no-prompt', '--allow-env', 'examples/deno.ts'], {
      env: { AGB_ENDPOINT: server.url, DENO_DIR: mkdtempSync(join(tmp, 'deno-')), DENO_NO_UPDATE_CHECK: '1' },
    })
    expect(run.code, describeRun('deno.ts', run)).not.toBe(0)
    expect(run.stderr).toMatch(/Missing environment variable AGB_API_KEY/)
  })

  it('bun.ts runs in Bun', async () => {
    const run = await runExample(join(BIN, 'bun'), ['run', '--no-install', '--no-env-file', 'examples/bun.ts'], { BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0', DO_NOT_TRACK: '1' })
    expectFlow(run, /^session deleted \(Bun 1\.\d+\.\d+\)$/m)
    expectNoLiveSessions()
  })
})

// --- Cloudflare Worker -------------------------------------------------------------------------

/** Bundles a Worker as wrangler does: esbuild, ESM, neutral platform, the Workers resolve conditions. */
async function bundleWorker(entry: { entryPoints: string[] } | { stdin: StdinOptions }): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    ...entry,
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    metafile: true,
    logLevel: 'silent',
  })
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) }
}

/** The KV namespace miniflare exposes to the test (typed here: workers-types is not installed). */
interface Kv {
  get(key: string): Promise<string | null>
  put(key: string, value: string): Promise<void>
}
const kvOf = async (mf: Miniflare, binding: string) => (await mf.getKVNamespace(binding)) as unknown as Kv

/** `main` and `compatibility_date` as the example's wrangler.toml declares them. */
function wranglerConfig(): { main: string; compatibilityDate: string; kvBinding: string } {
  const toml = readFileSync(join(WORKER_DIR, 'wrangler.toml'), 'utf8')
  const read = (re: RegExp) => {
    const value = re.exec(toml)?.[1]
    if (!value) throw new Error(`wrangler.toml does not match ${re}`)
    return value
  }
  return { main: read(/^main\s*=\s*"([^"]+)"/m), compatibilityDate: read(/^compatibility_date\s*=\s*"([^"]+)"/m), kvBinding: read(/binding\s*=\s*"([^"]+)"/) }
}

let workerdOutput = ''
/** Miniflare options shared by every Worker: bindings point at the loopback AGB Local. */
function miniflareBase(): Omit<MiniflareOptions, 'script'> & { modules: true } {
  return {
    modules: true,
    compatibilityDate: wranglerConfig().compatibilityDate,
    compatibilityFlags: [],
    bindings: agbEnv(),
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
      stdout.setEncoding('utf8').on('data', (s: string) => (workerdOutput += s))
      stderr.setEncoding('utf8').on('data', (s: string) => (workerdOutput += s))
    },
  }
}

describe('examples/cloudflare-worker', () => {
  it('creates a session in one request, re-attaches by its stored id in a fresh Worker, and deletes it in a third', async () => {
    const { main, compatibilityDate, kvBinding } = wranglerConfig()
    expect(compatibilityDate).toBe('2026-04-01')
    expect(kvBinding).toBe('SESSIONS')
    const { code, inputs } = await bundleWorker({ entryPoints: [join(WORKER_DIR, main)] })
    expect(inputs).toContain('dist/index.mjs')
    expect(inputs.filter((f) => f.startsWith('src/') || f.includes('ofetch/dist/node'))).toEqual([])

    // KV persisted on disk, and a NEW Miniflare (a new workerd process) per request: nothing but
    // the stored id survives from one request to the next, as across Worker isolates.
    const kvPersist = mkdtempSync(join(tmp, 'kv-'))
    const request = async (init: { method: string; path: string; body?: string }) => {
      const mf = new Miniflare({ ...miniflareBase(), script: code, kvNamespaces: [kvBinding], kvPersist })
      try {
        const response = await mf.dispatchFetch(`http://worker.test${init.path}`, { method: init.method, body: init.body, signal: AbortSignal.timeout(15_000) })
        const text = await response.text()
        const context = `${init.method} ${init.path}: HTTP ${response.status}\n${text.slice(0, 2000)}\n--- workerd ---\n${workerdOutput.trim()}`
        return { status: response.status, json: JSON.parse(text) as Record<string, unknown>, context, stored: await (await kvOf(mf, kvBinding)).get('demo') }
      } finally {
        await mf.dispose()
      }
    }

    const created = await request({ method: 'POST', path: '/sessions', body: JSON.stringify({ name: 'demo' }) })
    expect(created.status, created.context).toBe(201)
    const id = created.json.id as string
    expect(created.json).toEqual({ name: 'demo', id: expect.stringMatching(/\S/) })
    expect(created.stored).toBe(id)
    expect(server.local.liveSessions()).toBe(1)

    const ran = await request({ method: 'POST', path: '/sessions/demo/run', body: "x = 6 * 7\nprint('hello from the worker')\nx" })
    expect(ran.status, ran.context).toBe(200)
    expect(ran.json).toEqual({ name: 'demo', id, stdout: 'hello from the worker\n', stderr: '', text: '42', error: null })

    // The same sandbox, reached again from another Worker process: the kernel kept `x`.
    const again = await request({ method: 'POST', path: '/sessions/demo/run', body: 'print(x + 1)' })
    expect(again.json, again.context).toMatchObject({ id, stdout: '43\n', error: null })

    const js = await request({ method: 'POST', path: '/sessions/demo/run?language=javascript', body: 'console.log(1 + 1)' })
    expect(js.json, js.context).toMatchObject({ stdout: '2\n', error: null })

    const deleted = await request({ method: 'DELETE', path: '/sessions/demo' })
    expect(deleted.status, deleted.context).toBe(200)
    expect(deleted.json).toEqual({ name: 'demo', id, deleted: true })
    expect(deleted.stored).toBeNull()
    expectNoLiveSessions()

    const after = await request({ method: 'POST', path: '/sessions/demo/run', body: 'print(1)' })
    expect(after.status, after.context).toBe(404)
  })

  it('answers 410 and forgets the name when the stored session is gone', async () => {
    const { main, kvBinding } = wranglerConfig()
    const { code } = await bundleWorker({ entryPoints: [join(WORKER_DIR, main)] })
    const mf = new Miniflare({ ...miniflareBase(), script: code, kvNamespaces: [kvBinding] })
    try {
      const kv = await kvOf(mf, kvBinding)
      await kv.put('stale', 'session-that-does-not-exist')
      const response = await mf.dispatchFetch('http://worker.test/sessions/stale/run', { method: 'POST', body: 'print(1)', signal: AbortSignal.timeout(15_000) })
      expect(response.status, `${await response.clone().text()}\n${workerdOutput}`).toBe(410)
      expect(await response.json()).toMatchObject({ code: 'session_not_found' })
      expect(await kv.get('stale')).toBeNull()
    } finally {
      await mf.dispose()
    }
  })
})
