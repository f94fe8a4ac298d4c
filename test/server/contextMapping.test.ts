import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { storageClient } from './storageHelpers.ts'

// Context sync honours mappingPolicy (PROTOCOL §3.4): data uploaded from one path is mounted at another.
const local = createAgbLocal()
const api = storageClient((u, i) => local.fetch(u, i), 'http://agb.local', local.apiKey)
afterAll(() => local.close())

const policy = (extra: Record<string, unknown> = {}) => JSON.stringify({
  uploadPolicy: { autoUpload: true, uploadStrategy: 'UploadBeforeResourceRelease', uploadMode: 'File' },
  downloadPolicy: { autoDownload: true, downloadStrategy: 'DownloadAsync' }, ...extra,
})

async function downloaded(sessionId: string) {
  for (let i = 0; i < 400; i++) {
    const items = await api.contextInfo({ sessionId })
    if (items.length && items.every((t) => t.status !== 'InProgress')) return items
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error('downloads did not finish')
}

describe('mappingPolicy', () => {
  it('mounts files uploaded from /tmp/mapping under the mapped path, and syncs changes back under /tmp/mapping', async () => {
    const contextId = (await api.get('/sdk/GetContext', { name: 'mapping', allowCreate: 'true' })).json.data.id as string
    // A first session writes below /tmp/mapping and uploads.
    const first = await api.createSession({ persistenceDataList: [{ contextId, path: '/tmp/mapping', policy: policy() }] })
    await downloaded(first)
    expect((await api.shell(first, 'mkdir -p /tmp/mapping/sub && echo alpha > /tmp/mapping/notes.txt && echo beta > /tmp/mapping/sub/deep.txt')).exit_code).toBe(0)
    expect(await api.sync(first, contextId, '/tmp/mapping', 'upload')).toMatchObject({ status: 'Success' })

    // A second session mounts the same context at another path, mapped from /tmp/mapping.
    const second = await api.createSession({ persistenceDataList: [{ contextId, path: '/home/user/mapped', policy: policy({ mappingPolicy: { path: '/tmp/mapping' } }) }] })
    expect(await downloaded(second)).toEqual([expect.objectContaining({ contextId, path: '/home/user/mapped', status: 'Success', taskType: 'download' })])
    expect((await api.shell(second, 'cat /home/user/mapped/notes.txt /home/user/mapped/sub/deep.txt')).stdout).toBe('alpha\nbeta\n')
    expect((await api.shell(second, 'ls /tmp/mapping 2>&1; echo $?')).stdout).toMatch(/No such file or directory\n2\n$/)

    // Its changes go back where the data lives, so a session mounting /tmp/mapping sees them.
    expect((await api.shell(second, 'echo gamma > /home/user/mapped/new.txt')).exit_code).toBe(0)
    expect(await api.sync(second, contextId, '/home/user/mapped', 'upload')).toMatchObject({ status: 'Success' })
    const third = await api.createSession({ persistenceDataList: [{ contextId, path: '/tmp/mapping', policy: policy() }] })
    await downloaded(third)
    expect((await api.shell(third, 'cat /tmp/mapping/new.txt')).stdout).toBe('gamma\n')
    const listed = await api.post('/sdk/DescribeContextFiles', { contextId, parentFolderPath: '/tmp/mapping', pageNumber: '1', pageSize: '50' })
    expect(listed.json.data.map((f: any) => f.fileName).sort()).toEqual(expect.arrayContaining(['new.txt', 'notes.txt']))
  })
})
