import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal, serve, type AgbLocal } from '../server/index.ts'

const root = join(import.meta.dirname, '..')
const tsx = join(root, 'node_modules/.bin/tsx')

let local: AgbLocal
let server: Awaited<ReturnType<typeof serve>>
beforeAll(async () => {
  local = createAgbLocal()
  server = await serve(local)
})
afterAll(async () => {
  await server.close()
  await local.close()
})

/** Runs an example as a user would (its own process, configured by its environment). */
function run(file: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(tsx, [file], {
      cwd: root,
      env: {
        PATH: process.env.PATH!,
        HOME: process.env.HOME!,
        AGB_ENDPOINT: server.url,
        AGB_API_KEY: local.apiKey,
        AGB_OSS_ENDPOINT: local.oss.endpoint(server.url),
        AGB_OSS_ACCESS_KEY_ID: local.oss.accessKeyId,
        AGB_OSS_ACCESS_KEY_SECRET: local.oss.accessKeySecret,
        AGB_OSS_BUCKET: local.oss.bucket,
        ...env,
      },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

describe('examples', () => {
  it('quickstart.ts prints python output and deletes its session', async () => {
    const { code, stdout, stderr } = await run('examples/quickstart.ts')
    expect(code, stderr).toBe(0)
    expect(stdout).toMatch(/^session created: \S+/m)
    expect(stdout).toMatch(/^python stdout: Hello from Python 3\.\d+/m)
    expect(stdout).toMatch(/^python result: 42$/m)
    expect(stdout).toMatch(/^command exit 0: hello from Linux \| \/home\/user$/m)
    expect(stdout).toMatch(/^file read: rows: 42$/m)
    expect(stdout).toMatch(/^oss upload: Upload success \(agb-local\/quickstart\/\S+\/report\.txt\)$/m)
    expect(stdout).toMatch(/^session deleted$/m)
    expect(local.liveSessions()).toBe(0)
  })

  it('quickstart.ts fails with a clear message when AGB_API_KEY is missing', async () => {
    const { code, stderr } = await run('examples/quickstart.ts', { AGB_API_KEY: '' })
    expect(code).not.toBe(0)
    expect(stderr).toMatch(/AGB_API_KEY/)
  })

  it('streaming.ts shows output while the program runs, then a background job re-attached', async () => {
    const { code, stdout, stderr } = await run('examples/streaming.ts')
    expect(code, stderr).toBe(0)
    const steps = [...stdout.matchAll(/^\s*(\d+) ms stdout: step (\d)$/gm)].map((m) => [Number(m[1]), Number(m[2])])
    expect(steps.map(([, n]) => n)).toEqual([0, 1, 2, 3, 4])
    // Lines arrive as printed, about 200 ms apart, not all at the end.
    expect(steps[4]![0]! - steps[0]![0]!).toBeGreaterThan(500)
    expect(stdout).toMatch(/end: finished$/m)
    expect(stdout).toMatch(/^job output: job 1\njob output: job 2\njob output: job 3\n/m)
    expect(stdout).toMatch(/^job exit code: 0$/m)
    expect(local.liveSessions()).toBe(0)
  })

  it('npm start runs the quickstart against an AGB Local it starts itself', async () => {
    const child = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const p = spawn(tsx, ['scripts/start.ts'], { cwd: root, env: { PATH: process.env.PATH!, HOME: process.env.HOME! } })
      let stdout = ''
      p.stdout.on('data', (d) => (stdout += d))
      const timer = setTimeout(() => p.kill('SIGKILL'), 25_000)
      p.on('close', (code) => {
        clearTimeout(timer)
        resolve({ code, stdout })
      })
    })
    expect(child.code).toBe(0)
    expect(child.stdout).toMatch(/^AGB Local listening on http:\/\/127\.0\.0\.1:\d+/m)
    expect(child.stdout).toMatch(/^python result: 42$/m)
    expect(child.stdout).toMatch(/^oss upload: Upload success/m)
  })
})
