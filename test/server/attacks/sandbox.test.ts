import { existsSync, readFileSync, rmSync, statSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../../server/index.ts'
import { SANDBOX_UID_BASE } from '../../../server/sandbox/limits/sandboxUids.ts'
import { localClient, pidsMatching, waitFor } from '../localClient.ts'
import { attackTable } from './attackTable.ts'

// Hostile code in a session tries to get privileges back or to write to the host. Each test
// performs the attack for real (AGB Local runs as root here, as in CI) and asserts it failed,
// from inside and, where it matters, from the host. isolation 'bwrap' throws without bubblewrap:
// these tests never pass silently without a sandbox.
const local = createAgbLocal({ isolation: 'bwrap' })
const api = localClient(local)
const table = attackTable('Sandbox confinement attacks (AGB Local run as root)')
afterAll(async () => {
  table.print()
  await local.close()
})

const asRoot = process.getuid?.() === 0
const session = api.createSession()

function status(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter((l) => l.includes(':\t')).map((l) => l.split(':\t').map((s) => s.trim()) as [string, string]))
}

describe('no privileges inside a sandbox', () => {
  it('has no capability, no_new_privs set and an unprivileged uid, in shell and in run_code', async () => {
    const id = await session
    const sh = status((await api.shell(id, 'cat /proc/self/status')).stdout)
    const py = (await api.runCode(id, "print(open('/proc/self/status').read())")).stdout.join('')
    for (const s of [sh, status(py)]) {
      for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(s[cap]).toBe('0000000000000000')
      expect(s.NoNewPrivs).toBe('1')
      expect(s.Uid).toBe('1000\t1000\t1000\t1000')
      expect(s.Gid).toBe('1000\t1000\t1000\t1000')
    }
    expect((await api.shell(id, 'id -un; echo $HOME')).stdout).toBe('user\n/home/user\n')
    table.add('read /proc/self/status (shell, python kernel)', `CapEff ${sh.CapEff}, CapBnd ${sh.CapBnd}, NoNewPrivs ${sh.NoNewPrivs}, uid 1000 (user), HOME /home/user`)
  })

  it.runIf(asRoot)('maps the sandbox user to an unprivileged host uid, never host root (seen from the host)', async () => {
    const id = await session
    const marker = `agb-attack-uidmap-${Date.now()}`
    await api.shell(id, `(exec -a ${marker} sleep 30) >/dev/null 2>&1 &`)
    await waitFor(() => pidsMatching(marker).length > 0)
    const pid = pidsMatching(marker)[0]!
    try {
      const maps = readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number))
      // Seen from the host, every line maps to a host uid of the sandbox range, none to 0.
      for (const [, outside, count] of maps) {
        expect(outside).toBeGreaterThanOrEqual(SANDBOX_UID_BASE)
        expect(count).toBe(1)
      }
      const host = status(readFileSync(`/proc/${pid}/status`, 'utf8'))
      const hostUid = Number(host.Uid!.split('\t')[0])
      expect(hostUid).toBeGreaterThanOrEqual(SANDBOX_UID_BASE)
      expect(host.CapEff).toBe('0000000000000000')
      table.add('uid_map of a sandbox process, read from the host', `maps to host uid ${hostUid} (not 0), host-side CapEff ${host.CapEff}`)
    } finally {
      await api.shell(id, `pkill -f ${marker}; true`)
    }
  })

  it('gives sessions different host uids, and other sessions\' roots are not theirs', async () => {
    const [a, b] = [await session, await api.createSession()]
    const owner = async (id: string) => {
      const marker = `agb-attack-owner-${id}`
      await api.shell(id, `(exec -a ${marker} sleep 30) >/dev/null 2>&1 &`)
      await waitFor(() => pidsMatching(marker).length > 0)
      const pid = pidsMatching(marker)[0]!
      const uid = Number(status(readFileSync(`/proc/${pid}/status`, 'utf8')).Uid!.split('\t')[0])
      await api.shell(id, `pkill -f ${marker}; true`)
      return uid
    }
    const [ua, ub] = [await owner(a), await owner(b)]
    if (asRoot) expect(ua).not.toBe(ub)
    else expect(ua).toBe(ub) // not root: every sandbox runs as AGB Local's own user
    table.add('two sessions: host uids of their processes', asRoot ? `${ua} and ${ub}: distinct (RLIMIT_NPROC, signals and file ownership do not cross)` : 'same user (AGB Local not root)')
  })
})

describe('no write to the host from inside a sandbox', () => {
  it('cannot remount /usr read-write, even through the setuid mount binary, nor write to it', async () => {
    const id = await session
    rmSync('/usr/local/proof', { force: true })
    const res = await api.shell(id, 'ls -l /usr/bin/mount; mount -o remount,bind,rw /usr && echo x > /usr/local/proof; echo x > /usr/local/proof')
    expect(res.stdout).toMatch(/^-rwsr-xr-x/) // setuid root on the host: ignored here (no_new_privs, unmapped root)
    expect(res.stderr).toMatch(/must be superuser|Permission denied|Operation not permitted/)
    expect(res.stderr).toMatch(/Read-only file system|Permission denied/)
    expect(existsSync('/usr/local/proof')).toBe(false)
    table.add('mount -o remount,bind,rw /usr && echo x > /usr/local/proof', `${res.stderr.split('\n')[0]}; write: ${res.stderr.trim().split('\n').pop()}; host file absent`)
  })

  it('cannot write into nor remount any read-only bind of a host path', async () => {
    const id = await session
    const script = `
import json, os, subprocess
out = []
for line in open('/proc/self/mountinfo'):
    point = line.split(' - ')[0].split()[4].replace('\\\\040', ' ')
    if point == '/' or point.split('/')[1] in ('proc', 'dev'):
        continue
    if os.path.isdir(point):
        target, mode = os.path.join(point, '.agb-attack'), 'x'
    else:
        target, mode = point, 'a'
    try:
        open(target, mode).close()
        write = 'WROTE'
    except OSError as e:
        write = e.strerror
    r = subprocess.run(['mount', '-o', 'remount,bind,rw', point], capture_output=True, text=True)
    out.append([point, write, r.returncode])
print(json.dumps(out))
`
    const run = await api.runCode(id, script)
    const results = JSON.parse(run.stdout.join('')) as Array<[string, string, number]>
    expect(results.length).toBeGreaterThan(5) // /usr, /etc/* entries, interpreter directories
    expect(results.map(([p]) => p)).toContain('/usr')
    for (const [point, write, remount] of results) {
      expect(write, point).toMatch(/Read-only file system|Permission denied/)
      expect(remount, point).not.toBe(0)
      expect(existsSync(`${point}/.agb-attack`)).toBe(false)
    }
    table.add(`write into / remount rw each of the ${results.length} read-only binds (${results.slice(0, 4).map(([p]) => p).join(', ')}, ...)`, `every write: ${[...new Set(results.map(([, w]) => w))].join(' / ')}; every remount refused`)
  })

  it('cannot write kernel settings under /proc/sys nor trigger sysrq', async () => {
    const id = await session
    const res = await api.shell(id, 'echo evil > /proc/sys/kernel/hostname; echo $?; echo 1 > /proc/sys/kernel/sysrq; echo $?; echo b > /proc/sysrq-trigger; echo $?; sysctl -w net.ipv4.ip_forward=1 >/dev/null; echo $?')
    expect(res.stdout.trim().split('\n').map(Number).every((n) => n !== 0)).toBe(true)
    expect(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim()).not.toBe('evil')
    table.add('echo into /proc/sys/kernel/{hostname,sysrq}, /proc/sysrq-trigger; sysctl -w', res.stderr.split('\n')[0]!.replace(/^.*: /, ''))
  })

  it('cannot create a user namespace (where it would get capabilities back)', async () => {
    const id = await session
    const res = await api.shell(id, 'unshare -U true; echo $?; unshare -Ur id; echo $?; bwrap --unshare-user --bind / / true; echo $?')
    expect(res.stdout.trim().split('\n').map(Number).every((n) => n !== 0)).toBe(true)
    // A single-threaded process (unshare(CLONE_NEWUSER) is EINVAL in a threaded one, proving nothing).
    const py = await api.shell(id, `python3 -c 'import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); print("UNSHARED" if libc.unshare(0x10000000) == 0 else os.strerror(ctypes.get_errno()))'`)
    expect(py.stdout).toMatch(/^(No space left on device|Operation not permitted)\n$/)
    table.add('unshare -U / unshare -Ur / nested bwrap / os.unshare(CLONE_NEWUSER)', `${res.stderr.split('\n')[0]!.replace(/^unshare: /, '')}; python: ${py.stdout.trim()}`)
  })

  it('cannot mknod a device, chown a file to root, change the hostname or open raw sockets', async () => {
    const id = await session
    const res = await api.shell(id, [
      'mknod /tmp/sda b 8 0; echo $?',
      'mknod /tmp/mem c 1 1; echo $?',
      'touch /tmp/mine; chown 0:0 /tmp/mine; echo $?',
      'hostname evil; echo $?',
      'python3 -c "import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)" 2>/dev/null; echo $?',
      'python3 -c "import socket; socket.socket().bind((\'127.0.0.1\', 81))" 2>/dev/null; echo $?',
    ].join('; '))
    const codes = res.stdout.trim().split('\n').map(Number)
    expect(codes).toHaveLength(6)
    expect(codes.every((n) => n !== 0)).toBe(true)
    expect((await api.shell(id, 'stat -c %u /tmp/mine; hostname')).stdout).toBe('1000\nagb-sandbox\n')
    table.add('mknod b 8 0 / c 1 1; chown 0:0; hostname evil; AF_PACKET raw socket; bind port 81', `all refused (exit codes ${codes.join(', ')}): ${res.stderr.split('\n')[0]}`)
  })

  it('gains nothing from setuid binaries (su, passwd, a setuid copy of its own)', async () => {
    const id = await session
    const res = await api.shell(id, 'su -c id root </dev/null; echo $?; passwd -d root; echo $?; cp /usr/bin/id /tmp/suid && chmod 4755 /tmp/suid; /tmp/suid -u')
    const lines = res.stdout.trim().split('\n')
    expect(Number(lines[0])).not.toBe(0)
    expect(Number(lines[1])).not.toBe(0)
    expect(lines[2]).toBe('1000')
    table.add('su -c id root; passwd -d root; setuid copy of id', `su/passwd fail (${res.stderr.split('\n')[0]}); setuid copy runs as uid ${lines[2]}`)
  })

  it('cannot see or signal AGB Local or other sessions', async () => {
    const [a, b] = [await session, await api.createSession()]
    const marker = `agb-attack-victim-${Date.now()}`
    await api.shell(b, `(exec -a ${marker} sleep 30) >/dev/null 2>&1 &`)
    await waitFor(() => pidsMatching(marker).length > 0)
    const victim = pidsMatching(marker)[0]!
    const res = await api.shell(a, `kill -9 ${victim}; echo $?; kill -9 ${process.pid}; echo $?; ls /proc | grep -c '^[0-9]'`)
    const [k1, k2, visible] = res.stdout.trim().split('\n').map(Number)
    expect(k1).not.toBe(0)
    expect(k2).not.toBe(0)
    expect(visible).toBeLessThan(10)
    expect(pidsMatching(marker)).toContain(victim)
    await api.shell(b, `pkill -f ${marker}; true`)
    table.add('kill -9 <host pid of another session>, kill -9 <AGB Local pid>', `both refused (no such process: own pid namespace), ${visible} pids visible`)
  })

  it('keeps files the host wrote read-only for the sandbox user', async () => {
    const id = await session
    const res = await api.shell(id, 'echo hacker::0:0::/:/bin/sh >> /etc/passwd; echo $?; stat -c %U /etc/passwd')
    expect(res.stdout).toBe('1\nnobody\n')
    expect(statSync('/etc/passwd').size).toBeGreaterThan(0)
    table.add('append a root user to the sandbox /etc/passwd', 'Permission denied (host-written files are owned by an unmapped uid)')
  })
})
