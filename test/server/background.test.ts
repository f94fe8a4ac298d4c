import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveConfig } from '../../server/config.ts'
import { kernelFor } from '../../server/kernels/kernelFor.ts'
import { createDirectSandbox } from '../../server/sandbox/createDirectSandbox.ts'
import { runInSession } from '../../server/sandbox/runInSession.ts'
import { createSessionStore } from '../../server/sessions/createSessionStore.ts'
import { createAgbLocal } from '../../server/index.ts'
import type { AgbLocal } from '../../server/index.ts'
import { localClient, pidsMatching, waitFor } from './localClient.ts'

// A session is one persistent machine, as on the cloud: what one `shell` call starts in the
// background is still running for the next call, until it is killed or the session ends.

/** Exactly the command `spawn()` in src/process/spawn.ts sends. */
function spawnCommand(dir: string, cmd: string): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
  const wrapper = `sh -c ${quote(cmd)}; echo $? > ${dir}/exit.tmp && mv ${dir}/exit.tmp ${dir}/exit`
  return `mkdir -p ${dir} && : > ${dir}/stdout && : > ${dir}/stderr && (setsid sh -c ${quote(wrapper)} > ${dir}/stdout 2> ${dir}/stderr < /dev/null & echo $!)`
}

/** A `sleep` whose duration makes its command line unique on this host. */
function marker(): string {
  return `sleep ${30 + randomBytes(3).readUIntBE(0, 3) / 1e7}`
}

const locals: AgbLocal[] = []
afterAll(() => Promise.all(locals.map((l) => l.close())))

describe.each(['bwrap', 'none'] as const)('background processes (isolation: %s)', (isolation) => {
  const local = createAgbLocal({ isolation })
  locals.push(local)
  const api = localClient(local)

  // Without isolation a shell's /tmp is the host's: keep the files in the session (relative paths).
  const procDir = () => `${isolation === 'bwrap' ? '/tmp/' : ''}.agb-proc/${randomBytes(6).toString('hex')}`

  async function start(id: string, cmd: string) {
    const dir = procDir()
    const res = await api.shell(id, spawnCommand(dir, cmd), { timeout_ms: 15_000 })
    expect(res.exit_code).toBe(0)
    const pid = Number.parseInt(res.stdout.trim(), 10)
    expect(Number.isInteger(pid)).toBe(true)
    return { dir, pid }
  }

  it('keeps a process started in the background running for later shell calls', async () => {
    const id = await api.createSession()
    const sleep = marker()
    const started = performance.now()
    const { dir, pid } = await start(id, `echo started; echo oops >&2; ${sleep}`)
    expect(performance.now() - started).toBeLessThan(10_000) // the call does not wait for the job (a 30 s sleep)
    // `echo $!` answers before the job has run: wait for its output, then see it still running.
    await waitFor(async () => (await api.shell(id, `cat ${dir}/stdout ${dir}/stderr`)).stdout === 'started\noops\n')
    const probe = await api.shell(id, `kill -0 ${pid} && echo alive; test -e ${dir}/exit || echo no-exit-yet`)
    expect(probe.stdout).toBe('alive\nno-exit-yet\n')
    expect(pidsMatching(sleep).length).toBeGreaterThan(0)
    expect(local.sessionProcessCount()).toBeGreaterThanOrEqual(2) // the wrapper sh and the sleep
    await api.shell(id, `kill -TERM -- -${pid}`)
  })

  it('writes the exit code of a background command that finishes', async () => {
    const id = await api.createSession()
    const { dir } = await start(id, 'echo out; sleep 0.2; echo err >&2; exit 3')
    await waitFor(async () => (await api.shell(id, `cat ${dir}/exit 2>/dev/null`)).stdout === '3\n', 5000)
    expect((await api.callTool(id, 'read_file', { path: `${dir}/stdout` })).text).toBe('out\n')
    expect((await api.shell(id, `cat ${dir}/stderr`)).stdout).toBe('err\n')
  })

  it('kills the whole background group with kill -TERM -- -<pid>', async () => {
    const id = await api.createSession()
    const sleep = marker()
    const { dir, pid } = await start(id, `${sleep}; echo never`)
    await waitFor(() => pidsMatching(sleep).length > 0)
    // `echo $!` answers before the job has run `setsid`: until then its process group does not
    // exist (and the forked shell already carries the marker in its command line).
    await waitFor(async () => (await api.shell(id, `kill -0 -- -${pid} 2>/dev/null && echo up`)).stdout === 'up\n')
    const killed = await api.shell(id, `kill -TERM -- -${pid}`)
    expect(killed.exit_code).toBe(0)
    await waitFor(() => pidsMatching(sleep).length === 0)
    // Reaped, not a zombie: `kill -0` fails, so a waiting client learns it is gone.
    await waitFor(async () => (await api.shell(id, `kill -0 ${pid} 2>/dev/null || echo gone`)).stdout === 'gone\n')
    expect((await api.shell(id, `test -e ${dir}/exit && echo has-exit || echo no-exit`)).stdout).toBe('no-exit\n')
  })

  it('does not kill earlier setsid jobs when a later command times out', async () => {
    const id = await api.createSession()
    const sleep = marker()
    const { pid } = await start(id, sleep)
    const timedOut = await api.shell(id, 'sleep 20.5; echo never', { timeout_ms: 300 })
    expect(timedOut.exit_code).toBe(124)
    expect((await api.shell(id, `kill -0 ${pid} && echo alive`)).stdout).toBe('alive\n')
    expect(pidsMatching(sleep).length).toBeGreaterThan(0)
    await api.shell(id, `kill -KILL -- -${pid}`)
  })

  it('returns promptly when a plain background job keeps the output pipes open, and the job survives', async () => {
    const id = await api.createSession()
    const sleep = marker()
    const started = performance.now()
    const res = await api.shell(id, `echo before; ${sleep} & echo after`)
    expect(performance.now() - started).toBeLessThan(3000)
    expect(res).toMatchObject({ stdout: 'before\nafter\n', exit_code: 0 })
    expect(pidsMatching(sleep).length).toBeGreaterThan(0)
  })

  it('kills every process of the session when it is released', async () => {
    const id = await api.createSession()
    const [a, b, c] = [marker(), marker(), marker()]
    await start(id, a)
    await api.shell(id, `(setsid sh -c '(${b}) &' > /dev/null 2>&1 &); ${c} > /dev/null 2>&1 &`)
    await api.runCode(id, 'x = 1')
    await waitFor(() => [a, b, c].every((m) => pidsMatching(m).length > 0))
    expect(local.sessionProcessCount(id)).toBeGreaterThanOrEqual(4) // kernel, wrapper sh, sleeps
    await api.post('/mcp/releaseSession', { sessionId: id })
    expect([a, b, c].flatMap((m) => pidsMatching(m))).toEqual([])
    expect(pidsMatching(id)).toEqual([]) // nor the sandbox itself
    expect(local.sessionProcessCount(id)).toBe(0)
  })

  it('kills background processes when the session expires and when AGB Local closes', async () => {
    const idle = createAgbLocal({ isolation, defaultIdleTimeout: 1 })
    const api2 = localClient(idle)
    try {
      const first = await api2.createSession()
      const sleep = marker()
      const { dir } = await localStart(api2, first, sleep)
      expect(dir).toBeTruthy()
      await waitFor(() => pidsMatching(sleep).length > 0)
      await waitFor(async () => (await api2.post('/mcp/getSessionInfo', { sessionId: first })).json.data?.status === 'FINISH', 5000)
      expect(pidsMatching(sleep)).toEqual([])
      const second = await api2.createSession()
      const other = marker()
      await localStart(api2, second, other)
      await waitFor(() => pidsMatching(other).length > 0)
      await idle.close()
      expect(pidsMatching(other)).toEqual([])
      expect(idle.sessionProcessCount()).toBe(0)
    } finally {
      await idle.close()
    }
  })

  async function localStart(client: ReturnType<typeof localClient>, id: string, cmd: string) {
    const dir = procDir()
    const res = await client.shell(id, spawnCommand(dir, cmd), { timeout_ms: 15_000 })
    expect(res.exit_code).toBe(0)
    return { dir, pid: Number(res.stdout.trim()) }
  }
})

describe('one sandbox per session (bubblewrap)', () => {
  const local = createAgbLocal({ isolation: 'bwrap' })
  locals.push(local)
  const api = localClient(local)

  it('runs the kernels in the same pid namespace as shell commands', async () => {
    const id = await api.createSession()
    const pid = (await api.runCode(id, 'import os\nos.getpid()')).result[0]['text/plain']
    const res = await api.shell(id, `kill -0 ${pid} && tr '\\0' ' ' < /proc/${pid}/cmdline`)
    expect(res.stdout).toMatch(/python3? -u -c/)
    const js = (await api.runCode(id, 'process.pid', 'javascript')).result[0]['text/plain']
    expect((await api.shell(id, `kill -0 ${js} && echo same-namespace`)).stdout).toBe('same-namespace\n')
  })

  it('gives each session its own namespace: pids of one are invisible to another', async () => {
    const a = await api.createSession()
    const b = await api.createSession()
    const sleep = marker()
    const res = await api.shell(a, spawnCommand('/tmp/.agb-proc/ns', sleep))
    const pid = res.stdout.trim()
    expect((await api.shell(b, `kill -0 ${pid} 2>/dev/null && echo visible || echo invisible; ps -e -o args | grep -c "[s]${sleep.slice(1)}" || true`)).stdout).toBe('invisible\n0\n')
    await api.post('/mcp/releaseSession', { sessionId: a })
    expect(pidsMatching(sleep)).toEqual([])
  })
})

describe('without python3 on the host: one sandbox per process (the fallback)', () => {
  it.each(['bwrap', 'none'] as const)('runs commands and kernels, and release leaves nothing (isolation: %s)', async (isolation) => {
    const config = resolveConfig({ isolation })
    const store = createSessionStore(config)
    try {
      const session = (await store.create({ imageId: 'agb-code-space-1', labels: {} }))!
      session.sandbox = createDirectSandbox(config, session)
      const sleep = marker()
      const res = await runInSession(config, session, { argv: ['/bin/sh', '-c', `echo hi; (setsid ${sleep} > /dev/null 2>&1 &)`], timeoutMs: 5000 })
      expect(res).toMatchObject({ stdout: 'hi\n', exitCode: 0 })
      // Plain processes outlive their command; under bwrap the command's namespace ends with it.
      await new Promise((r) => setTimeout(r, 100))
      expect(pidsMatching(sleep).length > 0).toBe(isolation === 'none')
      const run = await kernelFor(config, session, 'javascript').execute('6 * 7', { timeoutMs: 10_000 })
      expect(run.results[0]?.['text/plain']).toBe('42')
      expect(session.sandbox.hostPids().length).toBeGreaterThan(0)
      await store.release(session, 'test')
      expect(pidsMatching(sleep)).toEqual([])
      expect(session.sandbox.hostPids()).toEqual([])
    } finally {
      await store.closeAll()
    }
  })
})
