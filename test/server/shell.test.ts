import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { localClient, pidsMatching, waitFor } from './localClient.ts'

const local = createAgbLocal()
const api = localClient(local)
afterAll(() => local.close())

describe('shell', () => {
  it('returns stdout, stderr and exit_code as JSON', async () => {
    const id = await api.createSession()
    const res = await api.callTool(id, 'shell', { command: "echo 'Hello World'; echo oops >&2", timeout_ms: 5000 })
    expect(res.isError).toBe(false)
    expect(res.doc).toMatchObject({ stdout: 'Hello World\n', stderr: 'oops\n', exit_code: 0 })
  })

  it('reports a non-zero exit as a normal result', async () => {
    const id = await api.createSession()
    const res = await api.callTool(id, 'shell', { command: 'cat file.txt', timeout_ms: 5000 })
    expect(res.json.success).toBe(true)
    expect(res.isError).toBe(false)
    expect(res.doc!.exit_code).not.toBe(0)
    expect(res.doc!.stderr).toContain('file.txt')
  })

  it('runs in /home/user by default and honours cwd and envs', async () => {
    const id = await api.createSession()
    expect((await api.shell(id, 'pwd')).stdout).toMatch(/\/home\/user\n$/)
    const res = await api.shell(id, 'pwd; echo $TEST_VAR', { cwd: '/tmp', envs: { TEST_VAR: 'test_value' } })
    expect(res.stdout).toMatch(/\/tmp\ntest_value\n$/)
  })

  it('shares files with run_code but no shell state', async () => {
    const id = await api.createSession()
    await api.runCode(id, "open('/tmp/shared.txt', 'w').write('from python')")
    expect((await api.shell(id, 'cat /tmp/shared.txt')).stdout).toBe('from python')
    await api.shell(id, 'export GONE=1; cd /tmp')
    expect((await api.shell(id, 'echo "[$GONE]"; pwd')).stdout).toMatch(/^\[\]\n.*\/home\/user\n$/)
  })

  it('kills the whole process group on timeout', async () => {
    const id = await api.createSession()
    const started = Date.now()
    const res = await api.shell(id, 'sleep 31.4159 & sleep 31.4159; echo never', { timeout_ms: 700 })
    expect(Date.now() - started).toBeLessThan(5000)
    expect(res.exit_code).toBe(124)
    expect(res.stdout).toBe('')
    expect(res.stderr).toContain('timed out')
    // SIGKILLed with the group; each process is gone once the kernel has scheduled its exit.
    await waitFor(() => pidsMatching('sleep 31.4159').length === 0, 3_000)
  })

  it('reports a missing cwd as a failed command', async () => {
    const id = await api.createSession()
    const res = await api.shell(id, 'pwd', { cwd: '/does/not/exist' })
    expect(res.exit_code).not.toBe(0)
  })
})
