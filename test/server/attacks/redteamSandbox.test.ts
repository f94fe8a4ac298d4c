import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../../server/index.ts'
import type { AgbLocal } from '../../../server/index.ts'
import { SANDBOX_UID_BASE } from '../../../server/sandbox/limits/sandboxUids.ts'
import { logSafe } from '../../../server/sandbox/logSafe.ts'
import { localClient, pidsMatching, waitFor } from '../localClient.ts'
import { attackTable } from './attackTable.ts'

// Breaks a red team found in the sandbox layer, each performed again here and asserted refused:
// sandboxed code stopping or impersonating its session's agent, sandbox text forging AGB Local's
// log lines, descriptors leaking from AGB Local's parent into sandboxes, sessions together
// exhausting the host, and sessions reaching each other over abstract unix sockets.
const logs: string[] = []
const local = createAgbLocal({ isolation: 'bwrap', log: (line) => logs.push(line) })
const api = localClient(local)
const table = attackTable('Red-team attacks on the sandbox layer (AGB Local run as root)')
const closers: Array<() => Promise<void> | void> = []
afterAll(async () => {
  table.print()
  for (const close of closers) await close()
  await local.close()
})

const asRoot = process.getuid?.() === 0

/** Host pid of a session's agent (python with `agb-local-agent <id>` in its argv; not bwrap's). */
function agentHostPid(id: string): number {
  const pids = pidsMatching(`agb-local-agent ${id}`).filter((pid) => {
    try {
      return /python/.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0]!)
    } catch {
      return false
    }
  })
  if (pids.length !== 1) throw new Error(`expected one agent of ${id}, found ${pids.join(',') || 'none'}`)
  return pids[0]!
}

/** Resolves to the value, or to 'no answer' after `ms` (the attack made the call hang). */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'no answer'> {
  return Promise.race([promise, new Promise<'no answer'>((r) => setTimeout(() => r('no answer'), ms))])
}

describe('the session agent cannot be stopped or impersonated by sandboxed code', () => {
  // Every process with agb-local-agent on its command line (the agent and, when it has one,
  // the init above it): ptrace them, take their descriptors (pidfd_getfd), list /proc/<pid>/fd.
  const PROBE = String.raw`
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
me = str(os.getpid())
found = {}
for p in os.listdir('/proc'):
    if not p.isdigit() or p == me:
        continue
    try:
        if b'agb-local-agent' not in open('/proc/%s/cmdline' % p, 'rb').read():
            continue
    except OSError:
        continue
    r = {}
    pid = int(p)
    r['ptrace'] = libc.ptrace(0x4206, pid, 0, 0)  # PTRACE_SEIZE: would not even stop it
    r['ptrace_errno'] = ctypes.get_errno()
    pfd = os.pidfd_open(pid)
    r['getfd'] = [libc.syscall(438, pfd, n, 0) for n in (0, 1, 2)]
    r['getfd_errno'] = ctypes.get_errno()
    try:
        r['fds'] = os.listdir('/proc/%d/fd' % pid)
    except OSError as e:
        r['fds'] = e.strerror
    found[p] = r
# The agent's commands are ordinary processes again (execve resets the flag): dumpable.
print(json.dumps({'found': found, 'dumpable': libc.prctl(3, 0, 0, 0, 0)}))
`

  it('refuses ptrace, pidfd_getfd and /proc/<pid>/fd on the agent (and on any init holding its pipes)', async () => {
    const id = await api.createSession()
    await api.callTool(id, 'write_file', { path: '/tmp/probe.py', content: PROBE })
    const res = await api.shell(id, 'python3 /tmp/probe.py')
    const { found, dumpable } = JSON.parse(res.stdout) as { dumpable: number; found: Record<string, { ptrace: number; ptrace_errno: number; getfd: number[]; getfd_errno: number; fds: string[] | string }> }
    expect(dumpable).toBe(1) // PR_GET_DUMPABLE of the command itself
    expect(Object.keys(found).length, res.stderr).toBeGreaterThan(0)
    for (const [pid, r] of Object.entries(found)) {
      expect({ pid, ptrace: r.ptrace, getfd: r.getfd, fds: r.fds }).toEqual({ pid, ptrace: -1, getfd: [-1, -1, -1], fds: 'Permission denied' })
      expect(r.ptrace_errno).toBe(1) // EPERM
      expect(r.getfd_errno).toBe(1)
    }
    table.add('ptrace / pidfd_getfd / list fds of the agent from inside', `pids ${Object.keys(found).join(', ')}: ptrace EPERM, pidfd_getfd EPERM, /proc/<pid>/fd Permission denied`)
  })

  it('ignores SIGSTOP from inside: the next call is answered', async () => {
    const id = await api.createSession()
    // (the word is split so that this shell's own command line does not match)
    const stop = await api.shell(id, 'w=agb-local-; for p in $(grep -l "${w}agent" /proc/[0-9]*/cmdline | cut -d/ -f3); do kill -STOP $p && echo stopped $p; done; echo sent', { timeout_ms: 3000 })
    expect(stop.stdout).toMatch(/^stopped 1\n(.*\n)*sent\n$/)
    const t = Date.now()
    const next = await within(api.shell(id, 'echo hi', { timeout_ms: 3000 }), 20_000)
    expect(next).not.toBe('no answer')
    expect((next as { stdout: string }).stdout).toBe('hi\n')
    table.add('kill -STOP the agent from inside, then shell', `ignored; next call answered in ${Date.now() - t} ms`)
  })

  it('answers a shell call on time even when the agent is stopped from outside while the command runs', async () => {
    const id = await api.createSession()
    await api.shell(id, 'true') // the agent runs
    const pid = agentHostPid(id)
    const t = Date.now()
    const call = api.shell(id, 'sleep 60', { timeout_ms: 1500 })
    await new Promise((r) => setTimeout(r, 700))
    process.kill(pid, 'SIGSTOP')
    try {
      const res = await within(call, 25_000)
      const ms = Date.now() - t
      expect(res).not.toBe('no answer')
      expect((res as { exit_code: number }).exit_code).toBe(124)
      expect(ms).toBeLessThan(1500 + 3000 + 8000)
      expect(logs.some((l) => l.includes(`the sandbox of ${id} does not answer`))).toBe(true)
      expect((await api.shell(id, 'echo again')).stdout).toBe('again\n')
      table.add('SIGSTOP the agent during `sleep 60` (timeout 1.5 s)', `answered in ${ms} ms as timed out; sandbox restarted, next call works`)
    } finally {
      try {
        process.kill(pid, 'SIGCONT')
      } catch {}
    }
  }, 40_000)

  it('answers a file operation when the agent is stopped from outside (no 5-minute wait)', async () => {
    const id = await api.createSession()
    await api.shell(id, 'true')
    const pid = agentHostPid(id)
    process.kill(pid, 'SIGSTOP')
    const t = Date.now()
    try {
      const res = await within(api.callTool(id, 'read_file', { path: '/home/user/x.txt' }), 20_000)
      expect(res).not.toBe('no answer')
      expect((res as { isError?: boolean }).isError).toBe(true)
      const after = await api.callTool(id, 'write_file', { path: '/home/user/x.txt', content: 'back' })
      expect(after.text).toBe('Successfully wrote to /home/user/x.txt')
      table.add('SIGSTOP the agent, then read_file', `failed in ${Date.now() - t} ms (sandbox restarted); the next file call works`)
    } finally {
      try {
        process.kill(pid, 'SIGCONT')
      } catch {}
    }
  }, 40_000)
})

describe('sandbox text never forges a line of AGB Local\'s log', () => {
  const PAYLOAD = '\\x1b]0;PWNED-TITLE\\x07\\x1b[2J\\nAGB Local listening on http://127.0.0.1:1\\nexport AGB_ENDPOINT=http://evil.example\\n\\xc2\\x9b31m'

  it.runIf(asRoot)('escapes and cuts what the agent wrote to its stderr before it died', async () => {
    const id = await api.createSession()
    await api.shell(id, 'true')
    const pid = agentHostPid(id)
    // Sandboxed code did exactly this before it lost access to the agent's descriptors; the
    // host (root) now plays that part: terminal escapes and fake lines into the agent's
    // stderr, then the agent dies and AGB Local logs why.
    const py = `import ctypes,os,sys\nl=ctypes.CDLL(None,use_errno=True)\npid=int(sys.argv[1])\nfd=l.syscall(438,os.pidfd_open(pid),2,0)\nassert fd>=0\nos.write(fd,b'${PAYLOAD}' + b'x' * 1000)\nos.kill(pid,9)\n`
    const run = spawnSync('python3', ['-c', py, String(pid)], { encoding: 'utf8' })
    expect(run.status, run.stderr).toBe(0)
    await waitFor(() => logs.some((l) => l.includes(`the sandbox of ${id} stopped`)))
    const line = logs.find((l) => l.includes(`the sandbox of ${id} stopped`))!
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
    expect(line).toContain('\\x1b]0;PWNED-TITLE\\x07\\x1b[2J\\nAGB Local listening on http://127.0.0.1:1\\nexport AGB_ENDPOINT=http://evil.example\\n\\x9b31m')
    expect(line.length).toBeLessThan(800)
    expect(logs.filter((l) => l.split('\n').some((part) => part.startsWith('export ')))).toEqual([])
    table.add('ESC sequences + a fake `export AGB_ENDPOINT=` line on the agent\'s stderr', `logged as one escaped line of ${line.length} chars`)
  })

  it('escapes every control character, the C1 range and line separators, and cuts long text', () => {
    expect(logSafe('a\nb\r\t\x00\x7f\x85\u2028\u202e')).toBe('a\\nb\\r\\t\\x00\\x7f\\x85\\u2028\\u202e')
    expect(logSafe('x'.repeat(600))).toBe(`${'x'.repeat(500)}…[100 more characters]`)
  })
})

describe('descriptors of AGB Local\'s parent never reach a sandbox', () => {
  it.runIf(asRoot)('a pipe inherited by the server (fd 251) is in none of a session\'s processes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'agb-f1-fds-'))
    // The server started like the red team's harness did: from a shell that left a descriptor
    // open without close-on-exec (fd 251, a file here).
    const leak = join(dataDir, 'leaked-descriptor')
    const child: ChildProcess = spawn('/bin/bash', ['-c', 'exec "$@" 251>>"$0"', leak, process.execPath, '--import', 'tsx', 'server/cli.ts', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    closers.push(async () => {
      child.kill('SIGTERM')
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)))
      rmSync(dataDir, { recursive: true, force: true })
    })
    let out = ''
    child.stdout!.on('data', (c: Buffer) => (out += c))
    child.stderr!.resume()
    await waitFor(() => /export AGB_ENDPOINT=(\S+)/.test(out), 30_000)
    const endpoint = /export AGB_ENDPOINT=(\S+)/.exec(out)![1]!
    const inherited = readlinkSync(`/proc/${child.pid}/fd/251`)
    expect(inherited).toBe(leak)
    const remote = localClient({ apiKey: 'akm-local-dev', fetch: (url: string, init: RequestInit) => fetch(url, init) } as unknown as AgbLocal, endpoint)
    const id = await remote.createSession()
    const inside = await remote.shell(id, 'sleep 30 >/dev/null 2>&1 & ls /proc/self/fd | tr "\\n" " "')
    expect(inside.stdout).toBe('0 1 2 3 ') // 3: ls's own listing of the directory
    // Seen from the host: no process of the session holds the inherited descriptor: its
    // launchers and bwrap (the session id on their command line), and everything running as a
    // sandbox uid (the agent, its commands, the background job). (tsx's esbuild, a helper of
    // the server itself, does hold it.)
    const holders: string[] = []
    const sessionProcs = readdirSync('/proc').filter((p) => {
      try {
        return /^\d+$/.test(p) && (readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(id) || Number(/^Uid:\t(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'latin1'))?.[1]) >= SANDBOX_UID_BASE)
      } catch {
        return false
      }
    })
    expect(sessionProcs.length).toBeGreaterThanOrEqual(3)
    for (const pid of sessionProcs) {
      let fds: string[] = []
      try {
        fds = readdirSync(`/proc/${pid}/fd`)
      } catch {
        continue
      }
      for (const fd of fds) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`) === inherited) holders.push(`${pid}:${fd} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0]}`)
        } catch {}
      }
    }
    expect(holders).toEqual([])
    table.add('server started with an inherited fd 251; list fds inside and on the host', `inside: ${inside.stdout.trim()}; host: none of the session's ${sessionProcs.length} processes holds it`)
  }, 60_000)
})

describe('all sessions together are limited', () => {
  it.runIf(asRoot)('two sessions each allowed 256 MiB under a total of 300 MiB: their memory together stays under it', async () => {
    const lines: string[] = []
    const small = createAgbLocal({ isolation: 'bwrap', limits: { memory: '256m', totalMemory: '300m', totalProcesses: 300 }, log: (l) => lines.push(l) })
    closers.push(() => small.close())
    const s = localClient(small)
    expect(lines).toContain('Limits of all sessions together: memory 300 MiB, processes 300 (cgroup v1)')
    const [a, b] = [await s.createSession(), await s.createSession()]
    // Each hog holds 200 MiB (under its own limit) until killed.
    const hog = "python3 -c \"import os, time; b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); open('/tmp/held', 'w').write(str(os.getpid())); time.sleep(60)\" >/dev/null 2>&1 & sleep 4; test -s /tmp/held && echo held || echo none"
    const first = await s.shell(a, hog, { timeout_ms: 20_000 })
    expect(first.stdout).toBe('held\n')
    const second = await s.shell(b, hog, { timeout_ms: 20_000 })
    // Both cannot hold 200 MiB under a 300 MiB total: the kernel killed one of them.
    const alive = (await Promise.all([a, b].map((id) => s.shell(id, 'test -s /tmp/held && kill -0 $(cat /tmp/held) 2>/dev/null && echo alive || echo gone')))).map((r) => r.stdout.trim())
    expect(alive.filter((x) => x === 'alive').length).toBeLessThanOrEqual(1)
    expect((await s.shell(b, 'echo still answering')).stdout).toBe('still answering\n')
    table.add('two sessions hold 200 MiB each; limits 256 MiB each, 300 MiB together', `second hog: ${second.stdout.trim()}; alive afterwards: ${alive.join(', ')}; server answers`)
  }, 90_000)
})

describe('abstract unix sockets between sessions', () => {
  const SERVE = "python3 -c \"import socket\ns=socket.socket(socket.AF_UNIX); s.bind('\\0agb-f1-abstract'); s.listen(1)\nc,_=s.accept(); c.sendall(b'from B'); c.close()\" >/dev/null 2>&1 & for i in $(seq 100); do grep -q '@agb-f1-abstract' /proc/net/unix && break; sleep 0.1; done; echo listening"
  const CONNECT = "python3 -c \"import socket\ns=socket.socket(socket.AF_UNIX)\ntry:\n    s.connect('\\0agb-f1-abstract'); print(s.recv(100).decode())\nexcept OSError as e: print('refused', e.strerror)\""

  it('with network: false, a session cannot reach another session\'s abstract socket', async () => {
    const isolated = createAgbLocal({ isolation: 'bwrap', network: false })
    closers.push(() => isolated.close())
    const n = localClient(isolated)
    const [a, b] = [await n.createSession(), await n.createSession()]
    expect((await n.shell(b, SERVE)).stdout).toBe('listening\n')
    const reach = await n.shell(a, CONNECT)
    expect(reach.stdout).toBe('refused Connection refused\n')
    table.add('abstract unix socket of another session, network: false', reach.stdout.trim())
  })

  it('with the network shared (the default), it can: as documented', async () => {
    const [a, b] = [await api.createSession(), await api.createSession()]
    expect((await api.shell(b, SERVE)).stdout).toBe('listening\n')
    const reach = await api.shell(a, CONNECT)
    expect(reach.stdout).toBe('from B\n')
    table.add('abstract unix socket of another session, network shared (default)', `reached ("${reach.stdout.trim()}"): documented under "Not isolated: the network"`)
  })
})
