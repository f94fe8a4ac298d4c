import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  attachSession,
  createSession,
  deleteSession,
  getLabels,
  getLink,
  getMetrics,
  getSession,
  getSessionStatus,
  isAgbError,
  keepAlive,
  listSessions,
  listTools,
  reapSessions,
  runCode,
  sessionInfo,
  setLabels,
  withSession,
} from '../src/index.ts'
import { IMAGE, startLocal, TRANSPORTS, type LocalHarness } from './helpers/local.ts'

describe.each(TRANSPORTS)('sessions over %s', (transport) => {
  let h: LocalHarness
  beforeAll(async () => {
    h = await startLocal(transport)
  })
  afterAll(() => h.close())

  it('creates a session with labels and reads them back', async () => {
    const session = await createSession(h.client, { imageId: IMAGE, labels: { team: 'a', run: '1' } })
    expect(session.id).toMatch(/\S/)
    expect(session.imageId).toBe(IMAGE)
    expect(session.tools.map((t) => t.name)).toContain('run_code')
    expect(await getLabels(h.client, session)).toMatchObject({ team: 'a', run: '1' })
    await deleteSession(h.client, session)
  })

  it('rejects an unknown image with api_error naming the reason', async () => {
    const error = await createSession(h.client, { imageId: 'no-such-image' }).catch((e: unknown) => e)
    expect(isAgbError(error, 'api_error')).toBe(true)
    expect((error as Error).message).toMatch(/image/i)
  })

  it('a wrong API key is unauthorized, and the key is not in the message', async () => {
    const bad = { ...h.client, apiKey: 'akm-wrong-key' }
    Object.defineProperty(bad, 'apiKey', { value: 'akm-wrong-key', enumerable: false })
    const error = await createSession(bad, { imageId: IMAGE }).catch((e: unknown) => e)
    expect(isAgbError(error, 'unauthorized')).toBe(true)
    expect((error as Error).message).not.toContain('akm-wrong-key')
  })

  it('getSession rebuilds a full handle; attachSession works without a request', async () => {
    const created = await createSession(h.client, { imageId: IMAGE })
    const fetched = await getSession(h.client, created.id)
    expect(fetched).toMatchObject({ id: created.id, linkUrl: created.linkUrl, wsUrl: created.wsUrl })
    expect(fetched.token).toBe(created.token)
    expect(fetched.status?.toUpperCase()).toBe('RUNNING')
    const attached = attachSession(h.client, created.id)
    expect((await runCode(h.client, attached, '2 + 3')).text).toBe('5')
    await deleteSession(h.client, attached)
    expect(h.local.liveSessions()).toBe(0)
  })

  it('reports status, info, metrics, link and tools of a live session', async () => {
    await withSession(h.client, { imageId: IMAGE }, async (s) => {
      expect((await getSessionStatus(h.client, s)).toUpperCase()).toBe('RUNNING')
      expect((await sessionInfo(h.client, s)).sessionId).toBe(s.id)
      const metrics = await getMetrics(h.client, s)
      expect(metrics.cpuCount).toBeGreaterThan(0)
      expect(metrics.memTotal).toBeGreaterThan(0)
      expect(await getLink(h.client, s, { port: 30100 })).toMatch(/^https?:\/\//)
      const tools = await listTools(h.client, s)
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['run_code', 'shell', 'read_file', 'write_file']))
      await keepAlive(h.client, s)
    })
  })

  it('setLabels replaces labels; listSessions filters by them and pages through all', async () => {
    const tag = `t${Date.now()}`
    const sessions = await Promise.all([1, 2, 3].map(() => createSession(h.client, { imageId: IMAGE, labels: { suite: tag } })))
    await setLabels(h.client, sessions[0]!, { suite: tag, extra: 'yes' })
    expect(await getLabels(h.client, sessions[0]!)).toMatchObject({ suite: tag, extra: 'yes' })
    const firstPage = await listSessions(h.client, { labels: { suite: tag }, maxResults: 2 })
    expect(firstPage.sessions).toHaveLength(2)
    expect(firstPage.nextToken).toBeTruthy()
    const all: string[] = []
    for await (const s of listSessions(h.client, { labels: { suite: tag }, maxResults: 2 })) all.push(s.id)
    expect(all.sort()).toEqual(sessions.map((s) => s.id).sort())
    const only = await listSessions(h.client, { labels: { suite: tag, extra: 'yes' } })
    expect(only.sessions.map((s) => s.id)).toEqual([sessions[0]!.id])
    await Promise.all(sessions.map((s) => deleteSession(h.client, s)))
  })

  it('deleting twice succeeds; operations on a deleted session are session_not_found', async () => {
    const session = await createSession(h.client, { imageId: IMAGE })
    expect((await deleteSession(h.client, session)).confirmed).toBe(true)
    expect((await deleteSession(h.client, session)).confirmed).toBe(true)
    for (const op of [() => runCode(h.client, session, '1'), () => sessionInfo(h.client, session)]) {
      const error = await op().catch((e: unknown) => e)
      expect(isAgbError(error, 'session_not_found')).toBe(true)
    }
    // The status lookup reports FINISH for a while after release, then not-found.
    const status = await getSessionStatus(h.client, session).catch((e: unknown) => (isAgbError(e, 'session_not_found') ? 'gone' : e))
    expect(['FINISH', 'gone']).toContain(status)
  })

  it('deleteSession with wait: false returns before the session is gone', async () => {
    const session = await createSession(h.client, { imageId: IMAGE })
    expect((await deleteSession(h.client, session, { wait: false })).confirmed).toBe(false)
    await expect.poll(() => h.local.liveSessions(), { timeout: 5000 }).toBe(0)
  })

  it('withSession deletes the session when fn throws', async () => {
    let id = ''
    await expect(
      withSession(h.client, { imageId: IMAGE }, async (s) => {
        id = s.id
        throw new Error('user failure')
      }),
    ).rejects.toThrow('user failure')
    expect(isAgbError(await sessionInfo(h.client, id).catch((e: unknown) => e), 'session_not_found')).toBe(true)
  })

  it('reapSessions deletes sessions by label and age, keeping young ones', async () => {
    const label = { reap: `r${Date.now()}` }
    const old = await createSession(h.client, { imageId: IMAGE, labels: label })
    await new Promise((r) => setTimeout(r, 1_500))
    const young = await createSession(h.client, { imageId: IMAGE, labels: label })
    // Generous: the young one's create and the reap together must stay under olderThan on a busy machine.
    const result = await reapSessions(h.client, { labels: label, olderThan: 1_200 })
    expect(result.deleted).toEqual([old.id])
    expect(result.kept).toEqual([young.id])
    await deleteSession(h.client, young)
  })
})
