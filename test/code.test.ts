import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exec, runCode, type Session } from '../src/index.ts'
import { closeLocalSession, IMAGE, openLocalSession, randomBytes, TRANSPORTS, type LocalHarness } from './helpers/local.ts'

describe.each(TRANSPORTS)('runCode and exec over %s', (transport) => {
  let h: LocalHarness
  let session: Session
  beforeAll(async () => ({ h, session } = await openLocalSession(transport)))
  afterAll(() => closeLocalSession(h, session))

  it('keeps python state between calls and counts executions', async () => {
    const first = await runCode(h.client, session, 'x = 21')
    const second = await runCode(h.client, session, 'x * 2')
    expect(second.text).toBe('42')
    expect(second.executionCount).toBeGreaterThan(first.executionCount ?? 0)
  })

  it('separates stdout and stderr', async () => {
    const r = await runCode(h.client, session, "import sys\nprint('out')\nprint('err', file=sys.stderr)")
    expect(r.stdout).toBe('out\n')
    expect(r.stderr).toBe('err\n')
  })

  it('returns a raised exception as data with its name, value and traceback', async () => {
    const r = await runCode(h.client, session, '1 / 0')
    expect(r.success).toBe(false)
    expect(r.error).toMatchObject({ name: 'ZeroDivisionError', value: expect.stringContaining('division by zero') })
    expect(r.stderr).toContain('Traceback')
  })

  it('runs javascript with state, via the js alias', async () => {
    await runCode(h.client, session, 'globalThis.n = 20', { language: 'js' })
    expect((await runCode(h.client, session, 'n + 22', { language: 'JavaScript' as 'javascript' } /* case-insensitive at run time */)).text).toBe('42')
  })

  it('stops code at its timeout and reports it, then keeps working', async () => {
    const started = Date.now()
    const r = await runCode(h.client, session, 'import time\ntime.sleep(30)', { timeout: 3000 })
    expect(Date.now() - started).toBeLessThan(4000)
    expect(r.success).toBe(false)
    expect((await runCode(h.client, session, '1 + 1')).text).toBe('2')
  })

  it('exec returns exit code, stdout and stderr; non-zero is data', async () => {
    expect(await exec(h.client, session, 'echo hi && echo oops >&2')).toMatchObject({ exitCode: 0, stdout: 'hi\n', stderr: 'oops\n' })
    expect((await exec(h.client, session, 'exit 3')).exitCode).toBe(3)
  })

  it('exec honours cwd and env, and shell state does not persist', async () => {
    expect((await exec(h.client, session, 'pwd', { cwd: '/tmp' })).stdout.trim()).toBe('/tmp')
    expect((await exec(h.client, session, 'echo $GREETING', { env: { GREETING: 'héllo' } })).stdout.trim()).toBe('héllo')
    await exec(h.client, session, 'export GONE=1; cd /tmp')
    expect((await exec(h.client, session, 'echo "${GONE:-unset} $(pwd)"')).stdout.trim()).toBe('unset /home/user')
  })

  it('exec kills a command at its timeout', async () => {
    const started = Date.now()
    const r = await exec(h.client, session, 'sleep 30', { timeout: 2000 })
    expect(Date.now() - started).toBeLessThan(3000)
    expect(r.exitCode).not.toBe(0)
    expect(h.local.sessionProcessCount()).toBeLessThanOrEqual(2) // the kernels, not the sleep
  })
})
