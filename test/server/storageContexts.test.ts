import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { storageClient } from './storageHelpers.ts'

// Contexts (PROTOCOL §3.12): CRUD, files, clearing, and mounting into sessions.
const local = createAgbLocal()
const api = storageClient((u, i) => local.fetch(u, i), 'http://agb.local', local.apiKey)
afterAll(() => local.close())

async function createContext(name: string): Promise<string> {
  const res = await api.get('/sdk/GetContext', { name, allowCreate: 'true' })
  expect(res.json.success, JSON.stringify(res.json)).toBe(true)
  return res.json.data.id
}

/** Puts a file into a context through its presigned upload URL. */
async function putFile(contextId: string, filePath: string, body: string): Promise<void> {
  const url = (await api.post('/sdk/GetContextFileUploadUrl', { contextId, filePath })).json.data.url
  expect((await local.fetch(url, { method: 'PUT', body })).status).toBe(200)
}

async function fileText(contextId: string, filePath: string): Promise<{ status: number; text: string }> {
  const url = (await api.post('/sdk/GetContextFileDownloadUrl', { contextId, filePath })).json.data.url
  const res = await local.fetch(url)
  return { status: res.status, text: await res.text() }
}

const policy = JSON.stringify({ uploadPolicy: { autoUpload: true, uploadStrategy: 'UploadBeforeResourceRelease', uploadMode: 'File' }, downloadPolicy: { autoDownload: true, downloadStrategy: 'DownloadAsync' } })

async function waitForDownloads(sessionId: string) {
  for (let i = 0; i < 200; i++) {
    const items = await api.contextInfo({ sessionId })
    if (items.every((t) => t.status !== 'InProgress')) return items
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error('downloads did not finish')
}

describe('contexts', () => {
  it('creates a context by name, gets it by id or name, and reports unknown ones as not found', async () => {
    const id = await createContext('crud')
    expect((await api.get('/sdk/GetContext', { id, allowCreate: 'false' })).json.data).toMatchObject({ id, name: 'crud', state: 'available', createTime: expect.any(String), lastUsedTime: expect.any(String) })
    expect((await api.get('/sdk/GetContext', { name: 'crud', allowCreate: 'true' })).json.data.id).toBe(id)
    const missing = await api.get('/sdk/GetContext', { name: 'never-made', allowCreate: 'false' })
    expect(missing).toMatchObject({ status: 400, json: { success: false, code: 'InvalidContext.NotFound', httpStatusCode: 400 } })
    expect((await api.get('/sdk/GetContext', { allowCreate: 'true' })).json.code).toBe('InvalidParameter')
  })

  it('lists contexts page by page with a top-level nextToken, without sessions\' internal contexts', async () => {
    const sessionId = await api.createSession()
    await api.post('/sdk/GetAndLoadInternalContext', { sessionId, contextTypes: '["file_transfer"]' })
    for (const n of ['list-1', 'list-2', 'list-3']) await createContext(n)
    const names: string[] = []
    let nextToken = ''
    do {
      const page = await api.get('/sdk/ListContexts', { maxResults: '2', ...(nextToken ? { nextToken } : {}) })
      expect(page.json.data.length).toBeLessThanOrEqual(2)
      expect(page.json).toMatchObject({ success: true, maxResults: 2, totalCount: expect.any(Number) })
      for (const c of page.json.data) expect(Object.keys(c).sort()).toEqual(['createTime', 'id', 'lastUsedTime', 'name'])
      names.push(...page.json.data.map((c: { name: string }) => c.name))
      nextToken = page.json.nextToken
    } while (nextToken)
    expect(names).toEqual(expect.arrayContaining(['list-1', 'list-2', 'list-3']))
    expect(names.some((n) => n.startsWith('file_transfer'))).toBe(false)
  })

  it('renames with ModifyContext and refuses a name already taken', async () => {
    const id = await createContext('old-name')
    await createContext('taken')
    expect((await api.post('/sdk/ModifyContext', { id, name: 'new-name' })).json.success).toBe(true)
    expect((await api.get('/sdk/GetContext', { name: 'new-name', allowCreate: 'false' })).json.data.id).toBe(id)
    expect((await api.post('/sdk/ModifyContext', { id, name: 'taken' })).json).toMatchObject({ success: false, code: 'InvalidParameter' })
  })

  it('describes files and folders of a context page by page, and deletes files and folders', async () => {
    const id = await createContext('files')
    await putFile(id, '/data/a.txt', 'aaa')
    await putFile(id, '/data/b.txt', 'b')
    await putFile(id, '/data/sub/c.txt', 'c')
    const all = await api.post('/sdk/DescribeContextFiles', { contextId: id, parentFolderPath: '/data', pageNumber: '1', pageSize: '50' })
    expect(all.json).toMatchObject({ success: true, count: 3, nextToken: '', maxResults: 50 })
    expect(all.json.data.map((f: any) => [f.fileName, f.fileType, f.filePath, f.size])).toEqual([
      ['sub', 'folder', '/data/sub', 0], ['a.txt', 'file', '/data/a.txt', 3], ['b.txt', 'file', '/data/b.txt', 1],
    ])
    expect(all.json.data[1]).toEqual({ fileId: expect.any(String), fileName: 'a.txt', filePath: '/data/a.txt', fileType: 'file', gmtCreate: expect.any(String), gmtModified: expect.any(String), size: 3, status: 'available' })
    const page2 = await api.post('/sdk/DescribeContextFiles', { contextId: id, parentFolderPath: '/data', pageNumber: '2', pageSize: '2' })
    expect(page2.json).toMatchObject({ count: 3, nextToken: '', maxResults: 2 })
    expect(page2.json.data.map((f: any) => f.fileName)).toEqual(['b.txt'])
    expect((await api.post('/sdk/DescribeContextFiles', { contextId: id, parentFolderPath: '', pageNumber: '1', pageSize: '50' })).json.data.map((f: any) => f.filePath)).toEqual(['/data'])

    expect((await api.post('/sdk/DeleteContextFile', { contextId: id, filePath: '/data/a.txt' })).json.success).toBe(true)
    expect((await fileText(id, '/data/a.txt')).status).toBe(404)
    await api.post('/sdk/DeleteContextFile', { contextId: id, filePath: '/data/sub' })
    expect((await api.post('/sdk/DescribeContextFiles', { contextId: id, parentFolderPath: '/data', pageNumber: '1', pageSize: '50' })).json.data.map((f: any) => f.fileName)).toEqual(['b.txt'])
  })

  it('clears a context (clearing → available, files gone) and deletes it', async () => {
    const id = await createContext('to-clear')
    await putFile(id, '/x/1.txt', '1')
    expect((await api.post('/sdk/ClearContext', { id })).json.success).toBe(true)
    let state = ''
    for (let i = 0; i < 100 && state !== 'available'; i++) {
      state = (await api.get('/sdk/GetContext', { id, allowCreate: 'false' })).json.data.state
      expect(['clearing', 'pre-available', 'available']).toContain(state)
      if (state !== 'available') await new Promise((r) => setTimeout(r, 10))
    }
    expect(state).toBe('available')
    expect((await fileText(id, '/x/1.txt')).status).toBe(404)
    await putFile(id, '/x/2.txt', '2')
    expect((await api.post('/sdk/DeleteContext', { id })).json.success).toBe(true)
    expect((await api.get('/sdk/GetContext', { id, allowCreate: 'false' })).json.code).toBe('InvalidContext.NotFound')
    expect((await api.post('/sdk/DeleteContext', { id })).json.code).toBe('InvalidContext.NotFound')
  })

  it('checks SyncContext and GetContextInfo parameters', async () => {
    const sessionId = await api.createSession()
    const id = await createContext('sync-params')
    expect((await api.post('/sdk/SyncContext', { sessionId: 'session-nope', contextId: id, path: '/x', mode: 'upload' })).json.code).toBe('InvalidMcpSession.NotFound')
    expect((await api.post('/sdk/SyncContext', { sessionId, contextId: id, mode: 'upload' })).json.code).toBe('InvalidParameter')
    expect((await api.post('/sdk/SyncContext', { sessionId, contextId: id, path: '/x', mode: 'sideways' })).json.code).toBe('InvalidParameter')
    expect((await api.post('/sdk/SyncContext', { sessionId, contextId: 'ctx-nope', path: '/x', mode: 'upload' })).json.code).toBe('InvalidContext.NotFound')
    expect(await api.sync(sessionId, id, '/no/such/dir', 'upload')).toMatchObject({ status: 'Failed', errorMessage: expect.stringContaining('/no/such/dir') })
    expect((await api.get('/sdk/GetContextInfo', { sessionId: 'session-nope' })).json.code).toBe('InvalidMcpSession.NotFound')
  })
})

describe('contexts mounted by createSession (persistenceDataList)', () => {
  it('downloads the context into the session, uploads changes at release, and the next session sees them', async () => {
    const id = await createContext('persist')
    await putFile(id, '/home/data/notes.txt', 'v1')
    const first = await api.createSession({ persistenceDataList: [{ contextId: id, path: '/home/data', policy }] })
    expect(await waitForDownloads(first)).toEqual([{ contextId: id, path: '/home/data', status: 'Success', taskType: 'download', startTime: expect.any(Number), finishTime: expect.any(Number), errorMessage: '' }])
    expect((await api.shell(first, 'cat /home/data/notes.txt && echo v2 > /home/data/notes.txt && mkdir -p /home/data/new && echo n > /home/data/new/file')).stdout).toBe('v1')

    // Released by the client: UploadBeforeResourceRelease puts the changes back first.
    expect((await api.post('/mcp/releaseSession', {}, { sessionId: first })).json.success).toBe(true)
    expect((await fileText(id, '/home/data/notes.txt')).text).toBe('v2\n')

    const second = await api.createSession({ persistenceDataList: [{ contextId: id, path: '/home/data', policy }] })
    await waitForDownloads(second)
    expect((await api.shell(second, 'cat /home/data/notes.txt /home/data/new/file')).stdout).toBe('v2\nn\n')
  })

  it('syncs every mount when SyncContext names no context, and reports a missing context as a Failed task', async () => {
    const id = await createContext('mount-all')
    const sessionId = await api.createSession({
      persistenceDataList: [{ contextId: id, path: '/work', policy }, { contextId: 'ctx-missing', path: '/gone', policy }],
    })
    const items = await waitForDownloads(sessionId)
    expect(items.find((t) => t.contextId === 'ctx-missing')).toMatchObject({ status: 'Failed', errorMessage: 'context not found: ctx-missing' })
    await api.shell(sessionId, 'echo w > /work/w.txt')
    expect((await api.post('/sdk/SyncContext', { sessionId, mode: 'upload' })).json.success).toBe(true)
    for (let i = 0; i < 100 && (await fileText(id, '/work/w.txt')).status !== 200; i++) await new Promise((r) => setTimeout(r, 20))
    expect((await fileText(id, '/work/w.txt')).text).toBe('w\n')
  })

  it('gives each session one file-transfer context at /tmp/file_transfer and drops it at release', async () => {
    const sessionId = await api.createSession()
    const a = await api.post('/sdk/GetAndLoadInternalContext', { sessionId, contextTypes: '["file_transfer"]' })
    const b = await api.post('/sdk/GetAndLoadInternalContext', { sessionId, contextTypes: '["file_transfer"]' })
    expect(b.json.data).toEqual(a.json.data)
    expect((await api.shell(sessionId, 'test -d /tmp/file_transfer && echo yes')).stdout).toBe('yes\n')
    const contextId = a.json.data[0].contextId
    await api.post('/mcp/releaseSession', {}, { sessionId })
    expect((await api.get('/sdk/GetContext', { id: contextId, allowCreate: 'false' })).json.code).toBe('InvalidContext.NotFound')
    expect((await api.post('/sdk/GetAndLoadInternalContext', { sessionId, contextTypes: '["file_transfer"]' })).json.code).toBe('InvalidMcpSession.NotFound')
  })
})
