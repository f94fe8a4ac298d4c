import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSession, deleteSession, isAgbError, runCode, sessionInfo, withSession, type Client, type Session } from '../src/index.ts'
import { IMAGE, startLocal, type LocalHarness } from './helpers/local.ts'

// Each pattern of the official Session Management Guide, written with this SDK and run
// against AGB Local (real sandboxes, real kernels).
let h: LocalHarness
let client: Client
beforeAll(async () => {
  h = await startLocal('inject')
  client = h.client
})
afterAll(() => h.close())

describe('Session Management Guide patterns', () => {
  it('named session manager: create by name, use, clean up all', async () => {
    const sessions = new Map<string, Session>()
    const create = async (name: string) => {
      sessions.set(name, await createSession(client, { imageId: IMAGE, labels: { name } }))
      return sessions.get(name)!
    }
    const dev = await create('development')
    const test = await create('testing')
    expect((await runCode(client, dev, "print('Development environment')")).stdout).toContain('Development environment')
    expect((await runCode(client, test, "print('Testing environment')")).stdout).toContain('Testing environment')
    await Promise.all([...sessions.values()].map((s) => deleteSession(client, s)))
    sessions.clear()
    expect(h.local.liveSessions()).toBe(0)
  })

  it('three concurrent sessions each run a task and are always deleted', async () => {
    const tasks = ["print('Task 1')", "print('Task 2')", "raise RuntimeError('Task 3 failed')"]
    const results = await Promise.all(
      tasks.map((code) => withSession(client, { imageId: IMAGE }, async (s) => ({ id: s.id, result: await runCode(client, s, code) }))),
    )
    expect(results.map((r) => r.result.success)).toEqual([true, true, false])
    expect(results[0]!.result.stdout).toContain('Task 1')
    expect(results[2]!.result.error?.value).toContain('Task 3 failed')
    expect(new Set(results.map((r) => r.id)).size).toBe(3)
    expect(h.local.liveSessions()).toBe(0)
  })

  it('periodic health check reports OK while alive and FAILED after deletion', async () => {
    const session = await createSession(client, { imageId: IMAGE })
    const healthCheck = () => runCode(client, session, "print('health_check')").then((r) => r.success, () => false)
    const checks: boolean[] = []
    for (let i = 0; i < 3; i++) {
      checks.push(await healthCheck())
      expect((await sessionInfo(client, session)).sessionId).toBe(session.id)
      await new Promise((r) => setTimeout(r, 20))
    }
    await deleteSession(client, session)
    checks.push(await healthCheck())
    expect(checks).toEqual([true, true, true, false])
  })

  it('context-manager cleanup: await using deletes the session at block exit, even on throw', async () => {
    let id = ''
    await expect(
      (async () => {
        await using session = await createSession(client, { imageId: IMAGE })
        id = session.id
        await runCode(client, session, "print('Hello')")
        throw new Error('boom')
      })(),
    ).rejects.toThrow('boom')
    expect(id).not.toBe('')
    const error = await sessionInfo(client, id).catch((e: unknown) => e)
    expect(isAgbError(error, 'session_not_found')).toBe(true)
  })

  it('safe operation wrapper: an operation error becomes data, the session is still deleted', async () => {
    const safe = async <T>(op: (s: Session) => Promise<T>) => {
      try {
        return { success: true as const, value: await withSession(client, { imageId: IMAGE }, op) }
      } catch (e) {
        return { success: false as const, error: String(e) }
      }
    }
    const ok = await safe(async (s) => (await runCode(client, s, "print('Hello')")).stdout)
    const failed = await safe(async () => {
      throw new Error('operation failed')
    })
    expect(ok).toEqual({ success: true, value: expect.stringContaining('Hello') })
    expect(failed).toMatchObject({ success: false, error: expect.stringContaining('operation failed') })
    expect(h.local.liveSessions()).toBe(0)
  })

  it('recreates the session after N operations and when it becomes unresponsive', async () => {
    const maxOperations = 3
    let session = await createSession(client, { imageId: IMAGE })
    const used = new Set([session.id])
    let count = 0
    for (let task = 0; task < 7; task++) {
      if (count >= maxOperations) {
        await deleteSession(client, session)
        session = await createSession(client, { imageId: IMAGE })
        used.add(session.id)
        count = 0
      }
      expect((await runCode(client, session, `print(${task})`)).stdout.trim()).toBe(String(task))
      count++
    }
    expect(used.size).toBe(3)
    // Unresponsive: the session was released behind our back; the probe fails, we recreate.
    await deleteSession(client, session)
    const alive = await sessionInfo(client, session).then(() => true, () => false)
    expect(alive).toBe(false)
    session = await createSession(client, { imageId: IMAGE })
    expect((await runCode(client, session, '1 + 1')).text).toBe('2')
    await deleteSession(client, session)
    expect(h.local.liveSessions()).toBe(0)
  })
})
