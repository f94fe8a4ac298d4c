import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  editFile,
  exec,
  isAgbError,
  listDir,
  mkdir,
  move,
  readFile,
  readFiles,
  remove,
  runCode,
  searchFiles,
  stat,
  watchDir,
  writeFile,
  type FileChangeEvent,
  type Session,
} from '../src/index.ts'
import { closeLocalSession, IMAGE, openLocalSession, randomBytes, TRANSPORTS, type LocalHarness } from './helpers/local.ts'

const random = randomBytes

describe.each(TRANSPORTS)('files over %s', (transport) => {
  let h: LocalHarness
  let session: Session
  beforeAll(async () => ({ h, session } = await openLocalSession(transport)))
  afterAll(() => closeLocalSession(h, session))

  it('writes and reads text; the same file is seen by shell and python', async () => {
    await writeFile(h.client, session, '/tmp/hello.txt', 'hello\nworld\n')
    expect(await readFile(h.client, session, '/tmp/hello.txt')).toBe('hello\nworld\n')
    expect((await exec(h.client, session, 'cat /tmp/hello.txt')).stdout).toBe('hello\nworld\n')
    expect((await runCode(h.client, session, "open('/tmp/hello.txt').read().split()")).text).toBe("['hello', 'world']")
  })

  it('reads an empty file without a read_file call', async () => {
    await writeFile(h.client, session, '/tmp/empty.txt', '')
    expect(await readFile(h.client, session, '/tmp/empty.txt')).toBe('')
  })

  it('round-trips 200 KB of multi-byte text across 50 KiB chunks', async () => {
    const text = 'añ€😀'.repeat(20_000) // 1-, 2-, 3- and 4-byte characters, straddling every chunk edge
    await writeFile(h.client, session, '/home/user/multi.txt', text)
    expect(await readFile(h.client, session, '/home/user/multi.txt')).toBe(text)
  })

  it('round-trips 300 KB of random bytes exactly', async () => {
    const bytes = random(300_000)
    await writeFile(h.client, session, '/home/user/random.bin', bytes)
    expect((await stat(h.client, session, '/home/user/random.bin')).size).toBe(bytes.length)
    const back = await readFile(h.client, session, '/home/user/random.bin', { format: 'bytes' })
    expect(Buffer.from(back).equals(Buffer.from(bytes))).toBe(true)
  })

  it('appends, and create_new refuses an existing file', async () => {
    await writeFile(h.client, session, '/tmp/log.txt', 'a')
    await writeFile(h.client, session, '/tmp/log.txt', 'b', { mode: 'append' })
    expect(await readFile(h.client, session, '/tmp/log.txt')).toBe('ab')
    const error = await writeFile(h.client, session, '/tmp/log.txt', 'c', { mode: 'create_new' }).catch((e: unknown) => e)
    expect(isAgbError(error, 'tool_error')).toBe(true)
  })

  it('mkdir, listDir, move, stat and remove', async () => {
    await mkdir(h.client, session, '/home/user/project/src')
    await writeFile(h.client, session, '/home/user/project/src/a.py', 'print(1)')
    await writeFile(h.client, session, '/home/user/project/README', 'x')
    expect(await listDir(h.client, session, '/home/user/project')).toEqual(
      expect.arrayContaining([
        { name: 'src', type: 'directory' },
        { name: 'README', type: 'file' },
      ]),
    )
    await move(h.client, session, '/home/user/project/README', '/home/user/project/README.md')
    const info = await stat(h.client, session, '/home/user/project/README.md')
    expect(info).toMatchObject({ size: 1, isDirectory: false })
    expect((await stat(h.client, session, '/home/user/project/src')).isDirectory).toBe(true)
    await remove(h.client, session, '/home/user/project/README.md')
    const gone = await stat(h.client, session, '/home/user/project/README.md').catch((e: unknown) => e)
    expect(isAgbError(gone, 'not_found')).toBe(true)
    expect((gone as Error).message).toMatch(/^stat: \/home\/user\/project\/README\.md does not exist/)
  })

  it('editFile replaces text; searchFiles and readFiles find and read', async () => {
    await writeFile(h.client, session, '/home/user/app/config.py', 'DEBUG = True\nNAME = "x"\n')
    await writeFile(h.client, session, '/home/user/app/main.py', 'import config\n')
    await editFile(h.client, session, '/home/user/app/config.py', [{ oldText: 'DEBUG = True', newText: 'DEBUG = False' }])
    expect(await readFile(h.client, session, '/home/user/app/config.py')).toBe('DEBUG = False\nNAME = "x"\n')
    expect((await searchFiles(h.client, session, '/home/user/app', '*.py')).sort()).toEqual(['/home/user/app/config.py', '/home/user/app/main.py'])
    expect(await searchFiles(h.client, session, '/home/user/app', '*.rs')).toEqual([])
    expect(await readFiles(h.client, session, ['/home/user/app/main.py', '/home/user/app/config.py'])).toEqual({
      '/home/user/app/main.py': 'import config',
      '/home/user/app/config.py': 'DEBUG = False\nNAME = "x"',
    })
  })

  it('path escapes stay inside the sandbox: the host file is not found there', async () => {
    for (const path of ['/../../etc/shadow', '/home/user/../../../root/.bashrc']) {
      const error = await readFile(h.client, session, path).catch((e: unknown) => e)
      expect(isAgbError(error, 'not_found'), path).toBe(true)
    }
  })

  it('watchDir yields changes after the baseline and stops on abort', async () => {
    await mkdir(h.client, session, '/home/user/watched')
    const controller = new AbortController()
    const events: FileChangeEvent[] = []
    const polls = () => h.local.requests.filter((r) => r.body.includes('get_file_change')).length
    const pollsBefore = polls()
    const watching = (async () => {
      for await (const e of watchDir(h.client, session, '/home/user/watched', { interval: 100, signal: controller.signal })) events.push(e)
    })()
    // The first poll is the baseline; a second one is sent only once it has answered.
    await expect.poll(() => polls() - pollsBefore, { timeout: 5000 }).toBeGreaterThanOrEqual(2)
    await writeFile(h.client, session, '/home/user/watched/new.txt', 'x')
    await expect.poll(() => events.map((e) => e.path), { timeout: 5000 }).toContain('/home/user/watched/new.txt')
    controller.abort()
    await watching
    expect(events.find((e) => e.path === '/home/user/watched/new.txt')?.type).toBe('create')
  })
})
