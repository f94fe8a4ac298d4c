import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as sdk from '../src/index.ts'
import { isAgbError, type Client, type Session } from '../src/index.ts'
import type { FaultKind } from '../server/index.ts'
import { IMAGE, startLocal, type LocalHarness } from './helpers/local.ts'

// The fault matrix: every public operation × every fault AGB Local can inject, over real
// loopback HTTP. Each cell asserts the documented outcome and a bounded duration.
let h: LocalHarness
let client: Client
let session: Session
const TIMEOUT = 1_500

beforeAll(async () => {
  h = await startLocal('loopback')
  // Fast retries keep the matrix quick; the policy is the default one otherwise.
  client = sdk.createClient({ apiKey: h.local.apiKey, endpoint: h.url, retry: { attempts: 3, baseDelay: 20, maxDelay: 500 } })
  session = await sdk.createSession(client, { imageId: IMAGE })
  await sdk.writeFile(client, session, '/home/user/f.txt', 'content')
  await sdk.mkdir(client, session, '/home/user/d')
})
afterAll(async () => {
  printMatrix()
  await h.close()
})

interface Row {
  name: string
  /** Route (and tool) of the operation's first request: where the fault is injected. */
  route: string
  tool?: string
  /** Safe to repeat: transient faults are retried away. */
  idempotent: boolean
  /** Reads and checks the response data, so a wrong shape is noticed. */
  decodes: boolean
  run: () => Promise<unknown>
}

const tool = (name: string, t: string, idempotent: boolean, decodes: boolean, run: () => Promise<unknown>): Row => ({ name, route: '/mcp', tool: t, idempotent, decodes, run })
const api = (name: string, route: string, idempotent: boolean, decodes: boolean, run: () => Promise<unknown>): Row => ({ name, route, idempotent, decodes, run })
const opts = { timeout: TIMEOUT }

const ROWS: Row[] = [
  // createSession is not idempotent, but its tag makes retrying safe: transient faults are retried away.
  // Makes a disk image, mounts it and sets up cgroups: 4 s, like deleteSession below.
  api('createSession', '/mcp/createSession', true, true, async () => sdk.deleteSession(client, await sdk.createSession(client, { imageId: IMAGE, timeout: 4_000 }), { wait: false })),
  api('getSession', '/mcp/getSession', true, true, () => sdk.getSession(client, session, opts)),
  api('getSessionStatus', '/mcp/getSessionInfo', true, true, () => sdk.getSessionStatus(client, session, opts)),
  api('sessionInfo', '/mcp/getMcpResource', true, true, () => sdk.sessionInfo(client, session, opts)),
  api('listSessions', '/sdk/ListSession', true, true, () => sdk.listSessions(client, opts)),
  api('keepAlive', '/mcp/refreshSessionIdleTime', true, false, () => sdk.keepAlive(client, session, opts)),
  api('setLabels', '/sdk/SetLabel', true, false, () => sdk.setLabels(client, session, { a: 'b' }, opts)),
  api('getLabels', '/sdk/GetLabel', true, true, () => sdk.getLabels(client, session, opts)),
  api('getLink', '/internet/getLink', true, true, () => sdk.getLink(client, session, { port: 30100, ...opts })),
  api('listTools', '/mcp/listTools', true, true, () => sdk.listTools(client, IMAGE, opts)),
  // Waits for the sandbox to be torn down (unmounts, cgroups): under a parallel suite that alone
  // can take over 1.5 s, so this row gets 4 s; its hang and nonsense-data cells still time out.
  api('deleteSession', '/mcp/releaseSessionAsync', true, false, async () => sdk.deleteSession(client, await sdk.createSession(client, { imageId: IMAGE }), { timeout: 4_000 })),
  tool('getMetrics', 'get_metrics', true, true, () => sdk.getMetrics(client, session, opts)),
  tool('runCode', 'run_code', false, true, () => sdk.runCode(client, session, '1 + 1', { timeout: 3_000 })),
  tool('exec', 'shell', false, true, () => sdk.exec(client, session, 'true', { timeout: 3_000 })),
  tool('readFile', 'get_file_info', true, true, () => sdk.readFile(client, session, '/home/user/f.txt', opts)),
  tool('stat', 'get_file_info', true, true, () => sdk.stat(client, session, '/home/user/f.txt', opts)),
  tool('writeFile', 'write_file', false, true, () => sdk.writeFile(client, session, '/home/user/w.txt', 'x', opts)),
  tool('listDir', 'list_directory', true, true, () => sdk.listDir(client, session, '/home/user', opts)),
  tool('mkdir', 'create_directory', false, true, () => sdk.mkdir(client, session, '/home/user/d2', opts)),
  tool('move', 'move_file', false, true, async () => {
    await sdk.writeFile(client, session, '/home/user/m.txt', 'm')
    await sdk.move(client, session, '/home/user/m.txt', '/home/user/m2.txt', opts)
  }),
  tool('remove', 'delete_file', false, true, async () => {
    await sdk.writeFile(client, session, '/home/user/r.txt', 'r')
    await sdk.remove(client, session, '/home/user/r.txt', opts)
  }),
  tool('editFile', 'edit_file', false, true, async () => {
    await sdk.writeFile(client, session, '/home/user/e.txt', 'old')
    await sdk.editFile(client, session, '/home/user/e.txt', [{ oldText: 'old', newText: 'new' }], opts)
  }),
  tool('searchFiles', 'search_files', true, true, () => sdk.searchFiles(client, session, '/home/user', '*.txt', opts)),
  tool('readFiles', 'read_multiple_files', true, true, () => sdk.readFiles(client, session, ['/home/user/f.txt'], opts)),
  tool('callTool', 'get_metrics', true, true, () => sdk.callTool(client, session, 'get_metrics', {}, opts)),
  api('uploadFile', '/sdk/GetAndLoadInternalContext', true, true, () => sdk.uploadFile(client, session, 'u.txt', 'u', { pollInterval: 20, timeout: 5_000 })),
  api('downloadFile', '/sdk/GetAndLoadInternalContext', true, true, () => sdk.downloadFile(client, session, '/home/user/f.txt', { pollInterval: 20, timeout: 5_000 })),
]

type Cell = { kind: FaultKind; status?: number; label: string }
const FAULTS: Cell[] = [
  { kind: 'retry-after', label: '429+RA' },
  { kind: 'status', status: 500, label: '500' },
  { kind: 'status', status: 502, label: '502' },
  { kind: 'status', status: 503, label: '503' },
  { kind: 'malformed-json', label: 'bad JSON' },
  { kind: 'html', label: 'HTML 502' },
  { kind: 'empty', label: 'empty' },
  { kind: 'envelope-failure', label: 'success:false' },
  { kind: 'tool-error', label: 'isError' },
  { kind: 'schema', label: 'schema' },
  { kind: 'hang', label: 'hang' },
  { kind: 'drop', label: 'drop' },
]

/** The documented outcome: `ok` (retried and succeeded, or harmless) or the error code. */
function expected(row: Row, cell: Cell): string | undefined {
  const transient = cell.kind === 'retry-after' || cell.kind === 'status' || cell.kind === 'html' || cell.kind === 'drop'
  if (transient) return row.idempotent ? 'ok' : cell.kind === 'retry-after' ? 'rate_limited' : cell.kind === 'drop' ? 'network' : 'server_error'
  if (cell.kind === 'malformed-json' || cell.kind === 'empty') return 'invalid_response'
  // success:false with httpStatusCode 500: a server failure, retried like a 500 when safe.
  if (cell.kind === 'envelope-failure') return row.idempotent ? 'ok' : 'server_error'
  if (cell.kind === 'tool-error') return row.tool ? 'tool_error' : undefined // not applicable to API routes
  // A release answered with nonsense data is taken as accepted; the session then never goes away.
  if (cell.kind === 'schema' && row.name === 'deleteSession') return 'timeout'
  if (cell.kind === 'schema') return row.decodes || row.tool ? 'invalid_response' : 'ok'
  if (cell.kind === 'hang') return 'timeout'
  return undefined
}

const matrix = new Map<string, Map<string, string>>()
function printMatrix() {
  const header = ['operation', ...FAULTS.map((f) => f.label)]
  const lines = [header.join(' | '), header.map(() => '---').join(' | ')]
  for (const row of ROWS) lines.push([row.name, ...FAULTS.map((f) => matrix.get(row.name)?.get(f.label) ?? 'n/a')].join(' | '))
  console.log(`\nFault matrix (outcome, ms):\n${lines.map((l) => `| ${l} |`).join('\n')}\n`)
}

describe('fault matrix', () => {
  it.each(ROWS.map((r) => [r.name, r] as const))('%s: every fault gives its documented outcome in bounded time', async (_name, row) => {
    const results = new Map<string, string>()
    matrix.set(row.name, results)
    for (const cell of FAULTS) {
      const want = expected(row, cell)
      if (want === undefined) continue
      h.local.faults.clear()
      h.local.faults.add({ route: row.route, ...(row.tool ? { tool: row.tool } : {}), kind: cell.kind, ...(cell.status ? { status: cell.status } : {}), retryAfter: 0.05 })
      const started = Date.now()
      let got: string
      try {
        await row.run()
        got = 'ok'
      } catch (error) {
        got = isAgbError(error) ? error.code : `non-AgbError: ${String(error)}`
      }
      const ms = Date.now() - started
      results.set(cell.label, `${got} ${ms}`)
      expect(got, `${row.name} × ${cell.label}`).toBe(want)
      // No call outlives its timeout by more than a second.
      expect(ms, `${row.name} × ${cell.label} took ${ms} ms`).toBeLessThan(6_000)
      if (cell.kind === 'hang') expect(ms).toBeLessThan(TIMEOUT + 3_000 + 1_000)
    }
    h.local.faults.clear()
  }, 120_000)
})

describe('three clocks', () => {
  it('a per-request timeout abandons a hung read and retries it within the call deadline', async () => {
    h.local.faults.add({ route: '/mcp/getSessionInfo', kind: 'hang' })
    const started = Date.now()
    expect((await sdk.getSessionStatus(client, session, { timeout: 5_000, retry: { attempts: 3, baseDelay: 10, attemptTimeout: 300 } })).toUpperCase()).toBe('RUNNING')
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('a hung call that is not safe to repeat fails with timeout at its per-request clock', async () => {
    h.local.faults.add({ route: '/mcp', tool: 'shell', kind: 'hang' })
    const started = Date.now()
    const error = await sdk.exec(client, session, 'true', { timeout: 5_000, retry: { attemptTimeout: 300 } }).catch((e: unknown) => e)
    expect(isAgbError(error, 'timeout')).toBe(true)
    expect(Date.now() - started).toBeLessThan(1_300)
    h.local.faults.clear()
  })

  it('a timeout beyond the timer range (~24.8 days) is capped, not fired at once', async () => {
    // Runtimes fire a setTimeout of more than 2^31-1 ms immediately.
    const huge = 3_000_000_000
    const slow = sdk.createClient({ apiKey: h.local.apiKey, endpoint: h.url, timeout: huge, retry: { attemptTimeout: huge } })
    expect((await sdk.exec(slow, session, 'sleep 0.05; echo ok', { timeout: huge })).stdout.trim()).toBe('ok')
    expect(await sdk.readFile(slow, session, '/home/user/f.txt')).toBe('content')
  })

  it('a slow drip of bytes cannot stretch a call past its deadline', async () => {
    h.local.faults.add({ route: '/mcp/getSessionInfo', kind: 'slow-drip', intervalMs: 200 })
    const started = Date.now()
    const error = await sdk.getSessionStatus(client, session, { timeout: 800, retry: false }).catch((e: unknown) => e)
    expect(isAgbError(error, 'timeout')).toBe(true)
    expect(Date.now() - started).toBeLessThan(1_800)
    h.local.faults.clear()
  })
})
