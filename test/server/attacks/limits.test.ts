import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../../server/index.ts'
import type { AgbLocal } from '../../../server/index.ts'
import { localClient, pidsMatching, waitFor } from '../localClient.ts'
import { attackTable } from './attackTable.ts'

// Resource attacks beyond small limits (256 MiB memory, 64 processes, half a core, 64 MiB disk):
// each is contained in its session while another session keeps answering. AGB Local runs as
// root here (as in CI), so the limits are cgroups and a disk image per session.
const MiB = 1024 * 1024
const lines: string[] = []
const local = createAgbLocal({ isolation: 'bwrap', limits: { memory: '256m', processes: 64, cpus: 0.5, disk: 64 * MiB }, log: (l) => lines.push(l) })
const api = localClient(local)
const table = attackTable('Resource attacks (limits: memory 256 MiB, processes 64, cpu 0.5 core, disk 64 MiB)')
const others: AgbLocal[] = []
afterAll(async () => {
  table.print()
  await Promise.all([local.close(), ...others.map((o) => o.close())])
})

const asRoot = process.getuid?.() === 0
const bystander = api.createSession()

/** Host cgroup directory of a session (controller `memory`, `pids` or `cpu`), from one of its processes. */
async function cgroupOf(id: string, controller: string, client = api): Promise<string> {
  const marker = `agb-limits-cg-${id}-${controller}`
  await client.shell(id, `(exec -a ${marker} sleep 30) >/dev/null 2>&1 &`)
  await waitFor(() => pidsMatching(marker).length > 0)
  const pid = pidsMatching(marker)[0]!
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1]!.split(',').includes(controller))!
  await client.shell(id, `pkill -f ${marker}; true`)
  return join('/sys/fs/cgroup', controller, line.split(':')[2]!)
}

/** Runs `attack` while the bystander session answers `echo`s; returns the attack's result and the slowest answer (ms). */
async function whileAttacking<T>(attack: Promise<T>): Promise<{ result: T; slowest: number }> {
  const other = await bystander
  let done = false
  let slowest = 0
  const result = attack.finally(() => {
    done = true
  })
  const probe = (async () => {
    await new Promise((r) => setTimeout(r, 300)) // let the attack get going
    do {
      const started = performance.now()
      const res = await api.shell(other, 'echo alive')
      expect(res.stdout).toBe('alive\n')
      slowest = Math.max(slowest, performance.now() - started)
      await new Promise((r) => setTimeout(r, 100))
    } while (!done)
  })()
  const [value] = await Promise.all([result, probe])
  return { result: value, slowest }
}

describe.runIf(asRoot)('resource attacks stay inside their session', () => {
  it('prints the limits in effect at start', () => {
    expect(lines).toContain('Limits per session: memory 256 MiB, processes 64, cpu 0.5 cores, disk 64 MiB (cgroup v1, disk image)')
  })

  it('stops a python memory hog with a readable error; the kernel and other sessions carry on', async () => {
    const id = await api.createSession()
    const { result: run, slowest } = await whileAttacking(api.runCode(id, "hog = b'x' * (600 << 20)\nlen(hog)"))
    expect(run.executionError ?? `${run.error?.name}: ${run.error?.value}`).toMatch(/MemoryError|killed: memory limit \(256 MiB\)/)
    const memory = await cgroupOf(id, 'memory')
    const peak = Number(readFileSync(join(memory, 'memory.max_usage_in_bytes'), 'utf8'))
    expect(peak).toBeLessThanOrEqual(256 * MiB)
    expect((await api.runCode(id, '21 * 2')).result[0]['text/plain']).toBe('42')
    expect(slowest).toBeLessThan(2000)
    table.add("run_code: b'x' * (600 << 20)", `${run.executionError ?? run.error?.name}; session peak ${(peak / MiB).toFixed(0)} MiB; next run_code works; other session answered in ≤ ${Math.round(slowest)} ms`)
  })

  it('kills a shell memory hog and says so in stderr', async () => {
    const id = await api.createSession()
    const res = await api.shell(id, 'python3 -c "hog = bytearray(600 << 20); hog[::4096] = b\'x\' * len(hog[::4096])"')
    expect(res.exit_code).not.toBe(0)
    expect(res.stderr).toMatch(/MemoryError|killed: memory limit \(256 MiB\)/)
    table.add('shell: python3 touching 600 MiB', `exit ${res.exit_code}, stderr: ${res.stderr.trim().split('\n').pop()}`)
  })

  it('caps a fork bomb at the process limit; other sessions answer meanwhile', async () => {
    const id = await api.createSession()
    const pids = await cgroupOf(id, 'pids')
    const bomb = api.shell(id, 'bomb() { bomb | bomb & }; bomb; sleep 3', { timeout_ms: 4000 })
    const { result: res, slowest } = await whileAttacking(bomb)
    const peak = existsSync(join(pids, 'pids.peak')) ? Number(readFileSync(join(pids, 'pids.peak'), 'utf8')) : Number.NaN
    const refused = Number(/max (\d+)/.exec(readFileSync(join(pids, 'pids.events'), 'utf8'))?.[1])
    expect(res.stdout + res.stderr).toMatch(/fork: (retry: )?Resource temporarily unavailable/)
    if (!Number.isNaN(peak)) expect(peak).toBeLessThanOrEqual(64)
    expect(refused).toBeGreaterThan(0)
    expect(slowest).toBeLessThan(2000)
    const count = await api.shell(id, 'sleep 1 & sleep 1 & wait; echo done')
    table.add('shell: bash fork bomb for 3 s', `"fork: Resource temporarily unavailable"; peak ${peak} tasks (limit 64), ${refused} forks refused; other session answered in ≤ ${Math.round(slowest)} ms; session ${count.stdout.includes('done') ? 'still usable' : 'saturated until its jobs end'}`)
  })

  it('refuses processes beyond the limit with EAGAIN', async () => {
    const id = await api.createSession()
    const pids = await cgroupOf(id, 'pids')
    const run = await api.runCode(id, `
import subprocess
procs, why = [], None
try:
    for _ in range(100):
        procs.append(subprocess.Popen(['sleep', '30']))
except OSError as e:
    why = e.strerror
for p in procs:
    p.kill()
    p.wait()
print(len(procs), why)`)
    const [started, ...why] = run.stdout.join('').trim().split(' ')
    expect(why.join(' ')).toBe('Resource temporarily unavailable')
    const peak = existsSync(join(pids, 'pids.peak')) ? Number(readFileSync(join(pids, 'pids.peak'), 'utf8')) : Number.NaN // kernel 6.13+
    if (!Number.isNaN(peak)) expect(peak).toBeLessThanOrEqual(64)
    expect(Number(started)).toBeLessThan(64)
    table.add('run_code: start 100 subprocesses', `${started} started, then OSError "Resource temporarily unavailable"; peak ${peak} tasks in the session (limit 64)`)
  })

  it('fills its disk to the limit: No space left on device, and the host gets no more than the limit', async () => {
    const id = await api.createSession()
    const { result: res, slowest } = await whileAttacking(api.shell(id, 'dd if=/dev/zero of=/home/user/fill bs=1M count=200; dd if=/dev/zero of=/tmp/more bs=1M count=10; df -k / | tail -1'))
    expect(res.stderr).toContain('No space left on device')
    const used = Number(res.stdout.trim().split(/\s+/)[2]) * 1024
    expect(used).toBeLessThanOrEqual(64 * MiB)
    const py = await api.runCode(id, "open('/home/user/py.bin', 'wb').write(b'x' * (8 << 20))")
    expect(`${py.executionError ?? ''}${JSON.stringify(py.error ?? '')}`).toMatch(/No space left on device|Errno 28/)
    expect(slowest).toBeLessThan(2000)
    // The bystander still writes normally.
    expect((await api.shell(await bystander, 'dd if=/dev/zero of=/tmp/ok bs=1M count=8 2>&1 | tail -1; rm /tmp/ok')).stdout).toMatch(/8388608 bytes/)
    table.add('shell: dd 200 MiB into /home/user, then /tmp; python write 8 MiB', `"No space left on device" at ${(used / MiB).toFixed(1)} MiB used; OSError ENOSPC in python; other session writes fine`)
  })

  it('bounds files written to RAM (/dev/shm) by the memory limit; the session answers afterwards', async () => {
    const id = await api.createSession()
    const memory = await cgroupOf(id, 'memory')
    const res = await api.shell(id, 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=400 2>&1 | tail -1')
    const peak = Number(readFileSync(join(memory, 'memory.max_usage_in_bytes'), 'utf8'))
    expect(peak).toBeLessThanOrEqual(256 * MiB)
    expect(res.stdout + res.stderr).toMatch(/killed: memory limit \(256 MiB\)|No space left on device/)
    expect((await api.shell(id, 'echo ok')).stdout).toBe('ok\n')
    table.add('shell: dd 400 MiB into /dev/shm (RAM)', `${(res.stderr || res.stdout).trim().split('\n').pop()}; session peak ${(peak / MiB).toFixed(0)} MiB; the session answers afterwards`)
  })

  it('shows its limits read-only under /sys/fs/cgroup and cannot raise them', async () => {
    const id = await api.createSession()
    const res = await api.shell(id, [
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us',
      'echo -1 > /sys/fs/cgroup/memory/memory.limit_in_bytes; echo $?',
      'echo max > /sys/fs/cgroup/pids/pids.max; echo $?',
      'echo $$ > /sys/fs/cgroup/pids/cgroup.procs; echo $?',
    ].join('; '))
    expect(res.stdout).toBe(`${256 * MiB}\n64\n50000\n1\n1\n1\n`)
    expect(res.stderr).toContain('Read-only file system')
    expect(readFileSync(join(await cgroupOf(id, 'memory'), 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(256 * MiB))
    table.add('shell: raise its own limits through /sys/fs/cgroup (memory.limit_in_bytes, pids.max, cgroup.procs)', `refused: ${res.stderr.split('\n')[0]!.replace(/^.*: /, '')}; limits unchanged on the host`)
  })

  it('holds a CPU burner to its share; other sessions answer meanwhile', async () => {
    const id = await api.createSession()
    const burn = `python3 -c "
import os, time
t = time.time()
kids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        while time.time() - t < 3: pass
        os._exit(0)
    kids.append(pid)
for k in kids: os.waitpid(k, 0)
c = os.times()
print(c.children_user + c.children_system, time.time() - t)"`
    const { result: res, slowest } = await whileAttacking(api.shell(id, burn, { timeout_ms: 20_000 }))
    const [cpu, wall] = res.stdout.trim().split(' ').map(Number) as [number, number]
    // Half a core over ~3 s is ~1.5 CPU seconds (a busy host may give it less, never much more).
    expect(cpu).toBeLessThan(0.5 * wall * 1.3 + 0.2)
    const cpuDir = await cgroupOf(id, 'cpu')
    expect(readFileSync(join(cpuDir, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('50000')
    // Throttling shows once the burner reaches its share; on a host too busy to give it that
    // much, the upper bound above is the whole claim.
    const throttled = Number(/nr_throttled (\d+)/.exec(readFileSync(join(cpuDir, 'cpu.stat'), 'utf8'))?.[1])
    if (cpu / wall > 0.4) expect(throttled).toBeGreaterThan(0)
    expect(slowest).toBeLessThan(2000)
    table.add('shell: 2 busy processes for 3 s', `${cpu.toFixed(2)} CPU s in ${wall.toFixed(1)} s (${((cpu / wall) * 100).toFixed(0)}% of a core, limit 50%); throttled ${throttled} times; other session answered in ≤ ${Math.round(slowest)} ms`)
  })
})

describe.runIf(asRoot)('default limits and cleanup', () => {
  it('applies 2 GiB memory, 512 processes, 1 core and a 2 GiB disk by default', async () => {
    const log: string[] = []
    const def = createAgbLocal({ isolation: 'bwrap', log: (l) => log.push(l) })
    others.push(def)
    const client = localClient(def)
    const id = await client.createSession()
    expect(log).toContain('Limits per session: memory 2 GiB, processes 512, cpu 1 core, disk 2 GiB (cgroup v1, disk image)')
    expect(readFileSync(join(await cgroupOf(id, 'memory', client), 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(2 * 1024 * MiB))
    expect(readFileSync(join(await cgroupOf(id, 'pids', client), 'pids.max'), 'utf8').trim()).toBe('512')
    expect(readFileSync(join(await cgroupOf(id, 'cpu', client), 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('100000')
    const df = await client.shell(id, 'df -k --output=size / | tail -1')
    expect(Number(df.stdout) * 1024).toBeGreaterThan(1.9 * 1024 * MiB)
    expect(Number(df.stdout) * 1024).toBeLessThanOrEqual(2 * 1024 * MiB)
  })

  it('runs without limits with limits: false', async () => {
    const log: string[] = []
    const off = createAgbLocal({ isolation: 'bwrap', limits: false, log: (l) => log.push(l) })
    others.push(off)
    const client = localClient(off)
    const id = await client.createSession()
    expect(log).toContain('Limits per session: none (limits: false)')
    expect(await cgroupOf(id, 'pids', client)).not.toContain('agb-local')
    const df = await client.shell(id, 'df -k --output=size / | tail -1')
    expect(Number(df.stdout) * 1024).toBeGreaterThan(4 * 1024 * MiB) // the host's filesystem
  })

  it('rejects invalid limits with a message naming the option', () => {
    expect(() => createAgbLocal({ isolation: 'bwrap', limits: { memory: 'lots' } })).toThrow(/limits\.memory must be a positive size in bytes or like '2g'/)
    expect(() => createAgbLocal({ isolation: 'bwrap', limits: { processes: 0 } })).toThrow(/limits\.processes must be a positive integer/)
  })

  it('removes the cgroups, the mounted disk and the sandbox uid when a session is released', async () => {
    const id = await api.createSession()
    const dirs = await Promise.all(['memory', 'pids', 'cpu'].map((c) => cgroupOf(id, c)))
    const mounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`/${id}/root`))
    expect(mounts()).toHaveLength(1)
    const marker = `agb-limits-uid-${id}`
    await api.shell(id, `(exec -a ${marker} sleep 30) >/dev/null 2>&1 &`)
    await waitFor(() => pidsMatching(marker).length > 0)
    const uid = readFileSync(`/proc/${pidsMatching(marker)[0]}/status`, 'utf8').match(/^Uid:\t(\d+)/m)![1]
    expect(existsSync(`/run/agb-local/uids/${uid}`)).toBe(true)
    await api.post('/mcp/releaseSession', { sessionId: id })
    await waitFor(async () => (await api.post('/mcp/getSessionInfo', { sessionId: id })).json.data?.status !== 'RUNNING' && mounts().length === 0, 10_000)
    await waitFor(() => dirs.every((d) => !existsSync(d)), 10_000)
    expect(existsSync(`/run/agb-local/uids/${uid}`)).toBe(false)
  })
})
