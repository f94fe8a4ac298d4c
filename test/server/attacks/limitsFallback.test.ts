import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../../server/index.ts'
import { localClient } from '../localClient.ts'

// A machine where per-session disk images cannot be mounted (a container without loop devices):
// here a real `mount` found first on PATH that fails as it would there. AGB Local must not refuse
// sessions for that: the disk limit falls back to RLIMIT_FSIZE with one warning line, and the
// confinement is unchanged. (This file has its own module cache and PATH.)
const shimDir = mkdtempSync(join(tmpdir(), 'agb-mount-shim-'))
chmodSync(shimDir, 0o755)
writeFileSync(join(shimDir, 'mount'), '#!/bin/sh\necho "mount: /dev/loop: failed to setup loop device: No such device" >&2\nexit 32\n', { mode: 0o755 })
const savedPath = process.env.PATH
process.env.PATH = `${shimDir}:${savedPath}`
afterAll(() => {
  process.env.PATH = savedPath
  rmSync(shimDir, { recursive: true, force: true })
})

describe.runIf(process.getuid?.() === 0)('limits where a mechanism is unusable', () => {
  it('falls back to a per-file disk limit with one warning when disk images cannot be mounted', async () => {
    const lines: string[] = []
    const local = createAgbLocal({ isolation: 'bwrap', limits: { disk: '64m' }, log: (l) => lines.push(l) })
    try {
      const api = localClient(local)
      const id = await api.createSession()
      expect(lines.filter((l) => l.startsWith('WARNING: per-session disk images'))).toEqual([
        'WARNING: per-session disk images unusable here (disk image: mount: /dev/loop: failed to setup loop device: No such device); limits enforced by rlimits instead: disk per file (RLIMIT_FSIZE)',
      ])
      const res = await api.shell(id, 'grep -E "CapEff|NoNewPrivs" /proc/self/status; dd if=/dev/zero of=/home/user/big bs=1M count=100 2>/dev/null; echo exit=$?; stat -c %s /home/user/big')
      expect(res.stdout).toBe(`CapEff:\t0000000000000000\nNoNewPrivs:\t1\nexit=153\n${64 * 1024 * 1024}\n`)
    } finally {
      await local.close()
    }
  })
})
