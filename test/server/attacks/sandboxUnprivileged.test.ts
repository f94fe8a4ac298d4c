import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { findExecutable } from '../../../server/sandbox/findExecutable.ts'

// AGB Local started by an ordinary user (here: nobody, via setpriv from the root test run):
// bubblewrap's own user namespace must give the same confinement (no capability, no_new_privs,
// no nested user namespace), and the limits fall back to rlimits with one warning line.
const work = mkdtempSync(join(tmpdir(), 'agb-unpriv-test-'))
chmodSync(work, 0o755)
const home = join(work, 'home') // HOME and TMPDIR of the unprivileged AGB Local
mkdirSync(home)
chownSync(home, 65534, 65534)
afterAll(() => rmSync(work, { recursive: true, force: true }))

const SCRIPT = `
import { createAgbLocal } from '${resolve('server/index.ts')}'
import { localClient } from '${resolve('test/server/localClient.ts')}'
const lines = []
const local = createAgbLocal({ isolation: 'bwrap', limits: { memory: '256m', processes: 64 }, log: (l) => lines.push(l) })
const api = localClient(local)
const id = await api.createSession()
const status = await api.shell(id, 'cat /proc/self/status')
const attacks = await api.shell(id, 'mount -o remount,bind,rw /usr; echo $?; unshare -U true; echo $?; touch /usr/x; echo $?')
const hog = await api.runCode(id, "hog = b'x' * (400 << 20)")
await local.close()
console.log(JSON.stringify({ lines, status: status.stdout, attacks: attacks.stdout, hog: hog.executionError ?? null }))
`

/** The unprivileged user must be able to read this checkout (every parent searchable by others). */
function readableByOthers(dir: string): boolean {
  for (let d = dir; d !== dirname(d); d = dirname(d)) if (!(statSync(d).mode & 0o001)) return false
  return true
}

describe.runIf(process.getuid?.() === 0 && findExecutable('setpriv') && readableByOthers(resolve('node_modules/tsx')))('AGB Local run by an unprivileged user', () => {
  it('confines sandboxes just as well and limits them with rlimits, saying so', () => {
    const script = join(work, 'unprivileged.mts')
    writeFileSync(script, SCRIPT)
    chmodSync(script, 0o644)
    const res = spawnSync(findExecutable('setpriv')!, ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, '--import', 'tsx', script], {
      cwd: resolve('.'), env: { ...process.env, HOME: home, TMPDIR: home }, encoding: 'utf8', timeout: 60_000,
    })
    expect(res.status, res.stderr).toBe(0)
    const out = JSON.parse(res.stdout.trim().split('\n').pop()!) as { lines: string[]; status: string; attacks: string; hog: string | null }
    expect(out.status).toMatch(/^CapEff:\t0{16}$/m)
    expect(out.status).toMatch(/^CapBnd:\t0{16}$/m)
    expect(out.status).toMatch(/^NoNewPrivs:\t1$/m)
    expect(out.status).toMatch(/^Uid:\t1000\t1000\t1000\t1000$/m)
    expect(out.attacks.trim().split('\n').map(Number).every((n) => n !== 0)).toBe(true)
    expect(out.hog).toBe('MemoryError') // RLIMIT_DATA: a per-process bound
    expect(out.lines).toContain('Limits per session: memory 256 MiB, processes 64, cpu 1 core, disk 2 GiB')
    expect(out.lines.find((l) => l.startsWith('WARNING: cgroups unavailable'))).toMatch(/limits enforced by rlimits instead: memory per process \(RLIMIT_DATA\), processes per host user.*cpu NOT limited, disk per file \(RLIMIT_FSIZE\)$/)
    console.log(`\n| attack (AGB Local run by an unprivileged user) | outcome |\n|---|---|\n| status, remount /usr rw, unshare -U, touch /usr/x | CapEff 0, NoNewPrivs 1, uid 1000; all refused |\n| run_code: b'x' * (400 << 20) with memory 256m | ${out.hog} (rlimit fallback) |`)
  })
})
