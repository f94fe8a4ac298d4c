import { spawnSync } from 'node:child_process'
import { expect, it } from 'vitest'

// ofetch arms each attempt's timer as AbortSignal.timeout inside AbortSignal.any. Node 20
// garbage-collects such a timeout signal before it fires (nothing holds it strongly), so an
// attempt against a server that never answers ran on to the call's whole deadline whenever a
// collection came first. Forced collections make that certain here.
it('the per-attempt clock fires even when garbage is collected while the attempt waits', () => {
  const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', new URL('./attemptTimeoutGc.ts', import.meta.url).pathname], { encoding: 'utf8', timeout: 30_000 })
  const outcome = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { code: string; message: string; ms: number }
  expect(outcome.code, run.stderr).toBe('timeout')
  expect(outcome.message).toMatch(/timed out after 300 ms .*retry\.attemptTimeout/)
  expect(outcome.ms).toBeLessThan(3000) // not the call's 6 s deadline
}, 40_000)
