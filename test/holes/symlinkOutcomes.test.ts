// Symlinks inside a sandbox that point at host paths: the exact outcome of each operation,
// where test/hardening.test.ts accepted any outcome (a listing of `[]` on any error, any
// rejection of editFile). A link to a host path resolves inside the sandbox's own root, where
// that path does not exist: the operation fails with tool_error "no such file", reveals
// nothing, and the host file is untouched. Where the sandbox has its own directory of that
// name, the link reaches that one, never the host's.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSession, deleteSession, editFile, exec, isAgbError, listDir, type Session } from '../../src/index.ts'
import { IMAGE, startLocal, type LocalHarness } from '../helpers/local.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'agb-holes-symlink-'))
const hostSecret = join(dataDir, 'host-secret.txt')
let h: LocalHarness
let s: Session

beforeAll(async () => {
  writeFileSync(hostSecret, 'HOST SECRET')
  h = await startLocal('loopback', { dataDir })
  s = await createSession(h.client, { imageId: IMAGE })
  const made = await exec(h.client, s, `ln -s ${hostSecret} ~/abs && ln -s ${dataDir} ~/data`)
  expect(made.exitCode, made.stderr).toBe(0)
})
afterAll(async () => {
  if (s) await deleteSession(h.client, s).catch(() => undefined)
  await h?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

async function rejection(p: Promise<unknown>): Promise<Error> {
  const outcome = await p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`)
  return outcome.error as Error
}

describe('symlinks to host paths inside a sandbox', () => {
  it('listDir through a link to a host directory fails with tool_error "no such file"', async () => {
    const error = await rejection(listDir(h.client, s, '/home/user/data'))
    expect(isAgbError(error, 'tool_error'), String(error)).toBe(true)
    expect(error.message).toMatch(/no such file/i)
    expect(error.message).not.toContain('host-secret')
  })

  it('editFile through a link to a host file fails with tool_error "no such file" and leaves it unchanged', async () => {
    const error = await rejection(editFile(h.client, s, '/home/user/abs', [{ oldText: 'HOST', newText: 'PWNED' }]))
    expect(isAgbError(error, 'tool_error'), String(error)).toBe(true)
    expect(error.message).toMatch(/no such file/i)
    expect(error.message).not.toContain('HOST SECRET')
    expect(readFileSync(hostSecret, 'utf8')).toBe('HOST SECRET')
  })

  it('a link to a host directory reaches the sandbox\'s own directory of that name, never the host\'s', async () => {
    const made = await exec(h.client, s, `mkdir -p ${dataDir} && echo own > ${dataDir}/own.txt`)
    expect(made.exitCode, made.stderr).toBe(0)
    expect((await listDir(h.client, s, '/home/user/data')).map((e) => e.name)).toEqual(['own.txt'])
    expect(readFileSync(hostSecret, 'utf8')).toBe('HOST SECRET')
  })
})
