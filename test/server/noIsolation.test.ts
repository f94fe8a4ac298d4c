import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { localClient, pidsMatching, waitFor } from './localClient.ts'

// The fallback for hosts without bubblewrap (macOS, no user namespaces): plain processes whose
// cwd, HOME and TMPDIR live in the session directory.
const logs: string[] = []
const local = createAgbLocal({ isolation: 'none', log: (l) => logs.push(l) })
const api = localClient(local)
afterAll(() => local.close())

describe('isolation: none', () => {
  it('runs stateful python and javascript as plain processes', async () => {
    const id = await api.createSession()
    await api.runCode(id, 'n = 41')
    expect((await api.runCode(id, 'n + 1')).result[0]['text/plain']).toBe('42')
    expect((await api.runCode(id, '6 * 7', 'javascript')).result[0]['text/plain']).toBe('42')
  })

  it('starts shell commands in the session home directory with HOME set to it', async () => {
    const id = await api.createSession()
    const res = await api.shell(id, 'pwd; echo $HOME')
    const [pwd, home] = res.stdout.trim().split('\n')
    expect(pwd).toMatch(new RegExp(`/sessions/${id}/root/home/user$`))
    expect(home).toBe(pwd)
  })

  it('kills background jobs with the command on timeout', async () => {
    const id = await api.createSession()
    const res = await api.shell(id, 'sleep 29.97 & sleep 29.97', { timeout_ms: 500 })
    expect(res.exit_code).toBe(124)
    // SIGKILLed with the group; each process is gone once the kernel has scheduled its exit.
    await waitFor(() => pidsMatching('sleep 29.97').length === 0, 3_000)
  })

  it('does not warn when plain processes were asked for explicitly', () => {
    expect(logs.filter((l) => l.includes('WARNING'))).toEqual([])
  })

  it('queues concurrent run_code calls of one session', async () => {
    const id = await api.createSession()
    const runs = await Promise.all([1, 2, 3].map((i) => api.runCode(id, `import time\ntime.sleep(0.05)\n${i}`)))
    expect(runs.map((r) => r.result[0]['text/plain'])).toEqual(['1', '2', '3'])
    expect(runs.map((r) => r.execution_count).sort()).toEqual([1, 2, 3])
  })
})

describe('file tools without isolation', () => {
  it('share relative paths (the session home) with shell and run_code', async () => {
    const id = await api.createSession()
    await api.callTool(id, 'write_file', { path: 'rel.txt', content: 'plain' })
    expect((await api.shell(id, 'cat rel.txt')).stdout).toBe('plain')
    expect((await api.runCode(id, "open('rel.txt').read()")).result[0]['text/plain']).toBe("'plain'")
    await api.shell(id, 'echo back > back.txt')
    expect((await api.callTool(id, 'read_file', { path: '/home/user/back.txt' })).text).toBe('back\n')
  })

  it('still confine paths to the session directory', async () => {
    const id = await api.createSession()
    const res = await api.callTool(id, 'read_file', { path: '../../../../../../etc/hostname' })
    expect(res.text).toBe('agb-sandbox\n') // the session's own /etc/hostname, not the host's
    expect((await api.callTool(id, 'read_file', { path: '/etc/os-release' })).isError).toBe(true)
  })
})
