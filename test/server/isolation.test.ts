import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { resolveSessionPath } from '../../server/sandbox/resolveSessionPath.ts'
import { localClient } from './localClient.ts'

// isolation 'bwrap' throws when bubblewrap does not work: on a machine without it these tests
// fail loudly instead of silently passing without a sandbox.
const local = createAgbLocal({ isolation: 'bwrap' })
const api = localClient(local)
afterAll(() => local.close())

describe('session sandbox (bubblewrap)', () => {
  it('does not let a session see another session files', async () => {
    const a = await api.createSession()
    const b = await api.createSession()
    await api.shell(a, 'echo secret-a > /tmp/a.txt; echo secret-a > /home/user/a.txt')
    expect((await api.shell(a, 'cat /tmp/a.txt')).stdout).toBe('secret-a\n')
    const probe = await api.shell(b, 'ls /tmp /home/user; cat /tmp/a.txt; grep -rl --exclude-dir=usr --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev secret-a / 2>/dev/null; true')
    expect(probe.stdout).not.toContain('secret-a')
    expect(probe.stdout).not.toContain('a.txt')
  })

  it('hides the host /root, /home and the data directory', async () => {
    const id = await api.createSession()
    const res = await api.shell(id, 'ls -a /root; ls /home; ls /; cat /proc/1/cmdline | tr "\\0" " "')
    expect(res.stderr).toContain('/root')
    expect(res.stdout.split('\n')).toContain('user')
    expect(res.stdout).not.toMatch(/^root$/m)
    const mine = await api.runCode(id, "import os\nsorted(os.listdir('/'))")
    expect(mine.result[0]['text/plain']).not.toContain("'root'")
  })

  it('gives each sandbox its own pid namespace and hostname', async () => {
    const id = await api.createSession()
    const res = await api.shell(id, 'hostname; ps -e --no-headers | wc -l')
    const [hostname, count] = res.stdout.trim().split('\n')
    expect(hostname).toBe('agb-sandbox')
    expect(Number(count)).toBeLessThan(8)
  })

  it('keeps the host /usr read-only', async () => {
    const id = await api.createSession()
    const res = await api.shell(id, 'touch /usr/agb-local-test')
    expect(res.exit_code).not.toBe(0)
  })

  it('isolates the network with network: false', async () => {
    const offline = createAgbLocal({ isolation: 'bwrap', network: false })
    try {
      const api2 = localClient(offline)
      const id = await api2.createSession()
      const res = await api2.shell(id, 'cat /sys/class/net/*/operstate 2>/dev/null; ls /sys/class/net 2>/dev/null; python3 -c "import socket; print(socket.if_nameindex())"')
      expect(res.stdout).toContain("[(1, 'lo')]")
    } finally {
      await offline.close()
    }
  })
})

describe('resolveSessionPath', () => {
  it('maps sandbox paths into the session root and never above it', () => {
    expect(resolveSessionPath('/data/s1/root', '/tmp/x')).toBe('/data/s1/root/tmp/x')
    expect(resolveSessionPath('/data/s1/root', 'notes.txt')).toBe('/data/s1/root/home/user/notes.txt')
    expect(resolveSessionPath('/data/s1/root', '../../../../etc/passwd')).toBe('/data/s1/root/etc/passwd')
    expect(resolveSessionPath('/data/s1/root', '/tmp/../../..')).toBe('/data/s1/root')
  })
})
