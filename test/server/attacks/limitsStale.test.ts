import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, type Dirent } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../../server/index.ts'
import { unmountBelow } from '../../../server/sandbox/limits/sessionDisk.ts'
import { pidsMatching, waitFor } from '../localClient.ts'

// An AGB Local killed with SIGKILL cannot clean up: its session directories, mounted disks
// (loop devices), cgroups and sandbox uids stay. The next AGB Local must remove them at start,
// and never touch those of an AGB Local still running.
const asRoot = process.getuid?.() === 0
const work = mkdtempSync(join(tmpdir(), 'agb-stale-test-'))
chmodSync(work, 0o755) // sandbox users must reach the data directory inside
const children: ChildProcess[] = []
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL')
  // A failed test can leave a killed AGB Local's disk mounted below `work`: unmount it first.
  await unmountBelow(work)
  rmSync(work, { recursive: true, force: true })
})

const CHILD = `
import { createAgbLocal, serve } from '${resolve('server/index.ts')}'
const dataDir = process.argv[2] || undefined
const local = createAgbLocal({ isolation: 'bwrap', ...(dataDir ? { dataDir } : {}), limits: { memory: '256m', disk: '32m' } })
const server = await serve(local, { port: 0 })
console.log(JSON.stringify({ url: server.url, apiKey: local.apiKey }))
`

/** Starts an AGB Local in a child process, creates a session with a background job in it. */
async function startChild(dataDir: string | undefined, marker: string) {
  const script = join(work, 'child.mts')
  writeFileSync(script, CHILD)
  // node itself (not the tsx wrapper, which would survive as a separate process): SIGKILL hits AGB Local.
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...(dataDir ? [dataDir] : [])], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  const first = await new Promise<string>((res, rej) => {
    createInterface({ input: child.stdout! }).once('line', res)
    child.once('exit', (code) => rej(new Error(`child AGB Local exited (${code})`)))
  })
  const { url, apiKey } = JSON.parse(first) as { url: string; apiKey: string }
  const post = async (path: string, body: unknown) => (await (await fetch(url + path, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as Record<string, any>
  const created = await post('/mcp/createSession?imageId=agb-code-space-1', {})
  const sessionId: string = created.data?.sessionId
  if (!sessionId) throw new Error(`createSession in the child failed: ${JSON.stringify(created)}`)
  await post('/mcp', { sessionId, name: 'shell', args: JSON.stringify({ command: `(exec -a ${marker} sleep 300) >/dev/null 2>&1 &`, timeout_ms: 10_000 }) })
  await waitFor(() => pidsMatching(marker).length > 0)
  return { child, sessionId }
}

function leftovers(sessionId: string) {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`/${sessionId}/root`))
  const cgroups = ['memory', 'pids', 'cpu'].flatMap((c) => {
    const found: string[] = []
    const walk = (dir: string, depth: number) => {
      if (depth > 6) return
      let entries: Dirent[]
      try {
        entries = readdirSync(dir, { withFileTypes: true })
      } catch {
        return // removed meanwhile: other test files make and remove sessions' cgroups all along
      }
      for (const e of entries) {
        if (!e.isDirectory()) continue
        if (e.name === sessionId) found.push(join(dir, e.name))
        else walk(join(dir, e.name), depth + 1)
      }
    }
    walk(join('/sys/fs/cgroup', c), 0)
    return found
  })
  return { mounts, cgroups }
}

async function kill(child: ChildProcess): Promise<void> {
  const gone = new Promise((r) => child.once('exit', r))
  child.kill('SIGKILL')
  await gone
}

describe.runIf(asRoot)('leftovers of a killed AGB Local', () => {
  it('are removed at the next start: session directory, mounted disk, cgroups; its sandboxes died with it', async () => {
    const dataDir = join(work, 'data')
    const marker = `agb-stale-${Date.now()}`
    const { child, sessionId } = await startChild(dataDir, marker)
    const sessionDir = join(dataDir, 'sessions', sessionId)
    // The uid file is checked while its owner lives: once the owner is dead, any AGB Local that
    // another test file starts may sweep it (uids are host-wide), before this test looks.
    const uid = JSON.parse(readFileSync(join(sessionDir, 'owner.json'), 'utf8')).uid as number
    expect(existsSync(`/run/agb-local/uids/${uid}`)).toBe(true)
    await kill(child)
    await waitFor(() => pidsMatching(marker).length === 0) // --die-with-parent
    const before = leftovers(sessionId)
    expect(existsSync(sessionDir)).toBe(true)
    expect(before.mounts).toHaveLength(1)
    expect(before.cgroups.length).toBeGreaterThanOrEqual(3)

    const lines: string[] = []
    const next = createAgbLocal({ isolation: 'bwrap', dataDir, log: (l) => lines.push(l) })
    try {
      // Sessions wait for the start-up cleanup: the first one proves it is done.
      await next.fetch('http://agb.local/mcp/createSession?imageId=agb-code-space-1', { method: 'POST', headers: { authorization: `Bearer ${next.apiKey}` }, body: '{}' })
      expect(lines).toContain('AGB Local: removed 1 session directory left by an AGB Local that was killed')
      expect(existsSync(sessionDir)).toBe(false)
      expect(leftovers(sessionId)).toEqual({ mounts: [], cgroups: [] })
      expect(existsSync(`/run/agb-local/uids/${uid}`)).toBe(false)
    } finally {
      await next.close()
    }
  })

  it('include a data directory it created in the temp directory; a live AGB Local\'s is left alone', async () => {
    const marker = `agb-stale-tmp-${Date.now()}`
    const { child, sessionId } = await startChild(undefined, marker)
    const alive = await startChild(undefined, `${marker}-alive`)
    const dataDirOf = (pid: number) => readdirSync(tmpdir()).map((n) => join(tmpdir(), n)).find((d) => {
      try {
        return readFileSync(join(d, '.agb-local-owner'), 'utf8').startsWith(`${pid} `)
      } catch {
        return false
      }
    })
    const dead = dataDirOf(child.pid!)!
    const live = dataDirOf(alive.child.pid!)!
    expect(existsSync(join(dead, 'sessions', sessionId))).toBe(true)
    await kill(child)
    const next = createAgbLocal({ isolation: 'bwrap' })
    try {
      await next.fetch('http://agb.local/mcp/createSession?imageId=agb-code-space-1', { method: 'POST', headers: { authorization: `Bearer ${next.apiKey}` }, body: '{}' })
      expect(existsSync(dead)).toBe(false)
      expect(leftovers(sessionId)).toEqual({ mounts: [], cgroups: [] })
      expect(existsSync(join(live, 'sessions', alive.sessionId))).toBe(true)
      expect(pidsMatching(`${marker}-alive`)).toHaveLength(1)
    } finally {
      await next.close()
      await kill(alive.child)
    }
  })
})
