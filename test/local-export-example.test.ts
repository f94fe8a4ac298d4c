// CI runs examples/testing, a user's own vitest suite that starts AGB Local from
// `agb-micro/local` (the built package, resolved by name) in beforeAll and injects faults.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')

describe('examples/testing', () => {
  it('passes: the agent is tested against AGB Local, its retry path through injected faults', async () => {
    // The child is a vitest run of its own: none of this run's VITEST_* settings.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'))
    const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
      const child = execFile(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'examples/testing/vitest.config.ts', '--reporter=json'],
        { cwd: root, env: { ...env, NO_COLOR: '1' }, timeout: 540_000, maxBuffer: 16 * 1024 * 1024 }, (_e, out, err) => resolve({ stdout: out, stderr: err, code: child.exitCode }))
    })
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { numPassedTests: number; numFailedTests: number; testResults: { assertionResults: { title: string; status: string }[] }[] }
    const results = report.testResults.flatMap((f) => f.assertionResults.map((a) => `${a.status}: ${a.title}`))
    expect(results, stderr).toEqual([
      'passed: computes the mean in a sandbox',
      'passed: retries when the service answers run_code with 503',
      'passed: gives up after three attempts and reports the service error',
      'passed: deletes its session even when it fails',
    ])
    expect(code).toBe(0)
  }, 600_000)
})
