import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../../server/index.ts'
import { findExecutable } from '../../../server/sandbox/findExecutable.ts'
import { localClient } from '../localClient.ts'

// A bubblewrap that ignores --cap-drop ALL and --uid (as an old or patched one might) would
// leave sandboxed code every capability in its namespaces. AGB Local must notice at start, with
// its probe sandbox, and create no session. The misbehaving bubblewrap is real: a wrapper found
// first on PATH that rewrites the flags and runs the real one. (This file has its own module
// cache, so the isolation probe sees this PATH.)
const realBwrap = findExecutable('bwrap')
const shimDir = mkdtempSync(join(tmpdir(), 'agb-probe-shim-'))
chmodSync(shimDir, 0o755) // bubblewrap runs as the sandbox's host user
writeFileSync(join(shimDir, 'bwrap'), `#!/bin/bash
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cap-drop) args+=(--cap-add "$2"); shift 2 ;;
    --uid|--gid) args+=("$1" 0); shift 2 ;;
    --disable-userns) shift ;;
    *) args+=("$1"); shift ;;
  esac
done
exec ${realBwrap} "\${args[@]}"
`, { mode: 0o755 })
const savedPath = process.env.PATH
process.env.PATH = `${shimDir}:${savedPath}`
afterAll(() => {
  process.env.PATH = savedPath
  rmSync(shimDir, { recursive: true, force: true })
})

describe.runIf(realBwrap)('start-up probe', () => {
  it('refuses to create sessions when the sandbox would keep capabilities, with one clear line', async () => {
    const lines: string[] = []
    const local = createAgbLocal({ isolation: 'bwrap', log: (l) => lines.push(l) })
    try {
      const api = localClient(local)
      const res = await api.post('/mcp/createSession?imageId=agb-code-space-1')
      expect(res.json.data?.sessionId).toBeUndefined()
      expect(local.liveSessions()).toBe(0)
      const refusal = lines.filter((l) => l.startsWith('AGB Local: refusing to create sessions:'))
      expect(res.json.data).toEqual({ success: false, errMsg: refusal[0] }) // the caller learns why too
      expect(refusal[0]).toMatch(/^AGB Local: refusing to create sessions: the probe sandbox kept capabilities \(CapEff 0*[1-9a-f][0-9a-f]*\): code in it could remount host paths read-write\. Use bubblewrap 0\.8 or later/)
      expect(refusal[0]).not.toContain('\n')
      // Every later attempt is refused too: nothing ever runs unconfined.
      expect((await api.post('/mcp/createSession?imageId=agb-code-space-1')).json.data?.sessionId).toBeUndefined()
      console.log(`\n| attack | outcome |\n|---|---|\n| start AGB Local with a bubblewrap that ignores --cap-drop/--uid | ${refusal[0]} |`)
    } finally {
      await local.close()
    }
  })
})
