import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { findExecutable } from '../../server/sandbox/findExecutable.ts'
import { localClient } from './localClient.ts'

// A host without a JDK and without R, made real for this file's process: AGB Local looks its
// interpreters up on PATH, and PATH here holds only what a session needs besides them
// (bubblewrap; the sandbox's python is /usr/bin/python3). Test files run in processes of their own.
const bin = mkdtempSync(join(tmpdir(), 'agb-no-java-r-'))
for (const name of ['bwrap', 'python3']) {
  const found = findExecutable(name)
  if (found) symlinkSync(found, join(bin, name))
}
const originalPath = process.env.PATH
process.env.PATH = bin
const local = createAgbLocal()
const api = localClient(local)
afterAll(async () => {
  await local.close()
  process.env.PATH = originalPath
  rmSync(bin, { recursive: true, force: true })
})

describe('run_code on a host without java or R', () => {
  it('answers java with a tool error naming what to install', async () => {
    const id = await api.createSession()
    const res = await api.callTool(id, 'run_code', { code: 'System.out.println(1);', language: 'java', timeout_s: 10 })
    expect(res.json.success).toBe(true)
    expect(res.isError).toBe(true)
    expect(res.text).toBe("Error: language 'java' is not available in AGB Local on this machine (needs a JDK: jshell not found on PATH)")
  })

  it('answers r with a tool error naming what to install', async () => {
    const id = await api.createSession()
    const res = await api.callTool(id, 'run_code', { code: 'print(1)', language: 'r', timeout_s: 10 })
    expect(res.isError).toBe(true)
    expect(res.text).toBe("Error: language 'r' is not available in AGB Local on this machine (Rscript not found on PATH)")
  })

  it('still runs python in the same session', async () => {
    const id = await api.createSession()
    await api.callTool(id, 'run_code', { code: 'print(1)', language: 'r', timeout_s: 10 })
    const doc = await api.runCode(id, '6 * 7')
    expect(doc.result).toEqual([{ 'text/plain': '42', isMainResult: true }])
    expect(doc.execution_count).toBe(1)
  })
})
