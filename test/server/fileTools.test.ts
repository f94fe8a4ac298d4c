import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { resolveSessionPath } from '../../server/sandbox/resolveSessionPath.ts'
import { localClient, pidsMatching, waitFor } from './localClient.ts'

// Under bubblewrap (CI installs it), so sandbox paths mean the same to every tool.
const dataDir = mkdtempSync(join(tmpdir(), 'agb-files-test-'))
const local = createAgbLocal({ isolation: 'bwrap', dataDir })
const api = localClient(local)
afterAll(async () => {
  await local.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const rootOf = (id: string) => join(dataDir, 'sessions', id, 'root')

async function ok(id: string, name: string, args: Record<string, unknown>): Promise<string> {
  const res = await api.callTool(id, name, args)
  expect(res.json.success, JSON.stringify(res.json)).toBe(true)
  expect(res.isError, `${name}: ${res.text}`).toBe(false)
  return res.text
}

async function toolError(id: string, name: string, args: Record<string, unknown>): Promise<string> {
  const res = await api.callTool(id, name, args)
  expect(res.json.success).toBe(true) // a tool error is data, not an envelope failure
  expect(res.isError, `${name} should fail: ${res.text}`).toBe(true)
  expect(res.text).not.toContain(rootOf(id)) // sandbox paths only, never the session's host path
  return res.text
}

describe('read_file / write_file', () => {
  it('round-trips text, creating parent directories', async () => {
    const id = await api.createSession()
    expect(await ok(id, 'write_file', { path: '/tmp/deep/er/a.txt', content: 'héllo wörld\n', mode: 'overwrite' })).toBe('Successfully wrote to /tmp/deep/er/a.txt')
    expect(await ok(id, 'read_file', { path: '/tmp/deep/er/a.txt', offset: 0, length: 0 })).toBe('héllo wörld\n')
  })

  it('appends, overwrites, and refuses create_new on an existing file', async () => {
    const id = await api.createSession()
    await ok(id, 'write_file', { path: 'notes.txt', content: 'one\n', mode: 'create_new' })
    await ok(id, 'write_file', { path: 'notes.txt', content: 'two\n', mode: 'append' })
    expect(await ok(id, 'read_file', { path: '/home/user/notes.txt' })).toBe('one\ntwo\n')
    expect(await toolError(id, 'write_file', { path: 'notes.txt', content: 'three', mode: 'create_new' })).toContain('already exists')
    expect(await ok(id, 'read_file', { path: 'notes.txt' })).toBe('one\ntwo\n')
    await ok(id, 'write_file', { path: 'notes.txt', content: 'x' })
    expect(await ok(id, 'read_file', { path: 'notes.txt' })).toBe('x')
    expect(await toolError(id, 'write_file', { path: 'notes.txt', content: 'x', mode: 'sideways' })).toContain('unknown mode')
  })

  it('reads byte ranges with offset and length (0 = to the end)', async () => {
    const id = await api.createSession()
    await ok(id, 'write_file', { path: '/tmp/r.txt', content: '0123456789' })
    expect(await ok(id, 'read_file', { path: '/tmp/r.txt', offset: 3, length: 4 })).toBe('3456')
    expect(await ok(id, 'read_file', { path: '/tmp/r.txt', offset: 7, length: 0 })).toBe('789')
    expect(await ok(id, 'read_file', { path: '/tmp/r.txt', offset: 8, length: 100 })).toBe('89')
    expect(await ok(id, 'read_file', { path: '/tmp/r.txt', offset: 50, length: 5 })).toBe('')
    expect(await ok(id, 'read_file', { path: '/tmp/r.txt', offset: 1, length: 2, format: 'binary' })).toBe(Buffer.from('12').toString('base64'))
  })

  it('reads a 200 KB random binary file byte-exactly in 50 KiB base64 chunks', async () => {
    const id = await api.createSession()
    const bytes = randomBytes(200 * 1024)
    const b64 = bytes.toString('base64')
    for (let at = 0; at < b64.length; at += 51200) {
      await ok(id, 'write_file', { path: '/tmp/r.b64', content: b64.slice(at, at + 51200), mode: at ? 'append' : 'overwrite' })
    }
    expect((await api.shell(id, 'base64 -d /tmp/r.b64 > /tmp/r.bin && stat -c %s /tmp/r.bin')).stdout).toBe('204800\n')
    const size = Number(/^size: (\d+)$/m.exec(await ok(id, 'get_file_info', { path: '/tmp/r.bin' }))![1])
    expect(size).toBe(bytes.length)
    const chunks: Buffer[] = []
    for (let offset = 0; offset < size; offset += 51200) {
      chunks.push(Buffer.from(await ok(id, 'read_file', { path: '/tmp/r.bin', offset, length: Math.min(51200, size - offset), format: 'binary' }), 'base64'))
    }
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true)
  })

  it('reports missing files, directories and bad arguments as tool errors', async () => {
    const id = await api.createSession()
    expect(await toolError(id, 'read_file', { path: '/nope/x.txt' })).toMatch(/no such file/i)
    expect(await toolError(id, 'read_file', { path: '/tmp' })).toContain('is a directory')
    expect(await toolError(id, 'read_file', { path: '/tmp/x', offset: -1 })).toContain('offset')
    expect(await toolError(id, 'write_file', { path: '/tmp/x' })).toContain('content')
    expect(await toolError(id, 'write_file', { path: '/tmp', content: 'x' })).toContain('directory')
  })
})

describe('get_file_info / list_directory / create_directory / move_file / delete_file', () => {
  it('describes files and directories in key: value lines', async () => {
    const id = await api.createSession()
    await ok(id, 'write_file', { path: '/tmp/info.txt', content: 'hello world!' })
    const info = await ok(id, 'get_file_info', { path: '/tmp/info.txt' })
    const lines = info.split('\n')
    expect(lines.map((l) => l.slice(0, l.indexOf(':')))).toEqual(['name', 'path', 'size', 'isDirectory', 'modTime', 'mode', 'owner', 'group'])
    expect(lines.slice(0, 4)).toEqual(['name: info.txt', 'path: /tmp/info.txt', 'size: 12', 'isDirectory: false'])
    const modTime = lines[4]!.slice('modTime: '.length)
    expect(new Date(modTime).toISOString()).toBe(modTime)
    expect(Math.abs(Date.parse(modTime) - Date.now())).toBeLessThan(60_000)
    expect(lines[5]).toMatch(/^mode: -[rwx-]{9}$/)
    expect(lines[6]).toMatch(/^owner: \S+$/)
    expect(await ok(id, 'get_file_info', { path: '/home/user' })).toContain('isDirectory: true')
    expect(await toolError(id, 'get_file_info', { path: '/tmp/none' })).toMatch(/no such file/i)
  })

  it('lists [DIR] and [FILE] entries by name, symlinks by what they point to', async () => {
    const id = await api.createSession()
    await ok(id, 'create_directory', { path: '/data/b/c' })
    await ok(id, 'create_directory', { path: '/data/b/c' }) // already there: fine
    await ok(id, 'write_file', { path: '/data/z.txt', content: 'z' })
    await ok(id, 'write_file', { path: '/data/a.txt', content: 'a' })
    await api.shell(id, 'ln -s /data/b /data/link-dir && ln -s /data/missing /data/dangling')
    expect(await ok(id, 'list_directory', { path: '/data' })).toBe('[FILE] a.txt\n[DIR] b\n[FILE] dangling\n[DIR] link-dir\n[FILE] z.txt')
    expect(await ok(id, 'list_directory', { path: '/data/link-dir' })).toBe('[DIR] c')
    expect(await toolError(id, 'list_directory', { path: '/data/a.txt' })).toContain('not a directory')
  })

  it('moves files and directories, refusing to overwrite', async () => {
    const id = await api.createSession()
    await ok(id, 'write_file', { path: '/tmp/m/a.txt', content: 'A' })
    await ok(id, 'write_file', { path: '/tmp/m/b.txt', content: 'B' })
    await ok(id, 'move_file', { source: '/tmp/m/a.txt', destination: '/tmp/n/moved.txt' })
    expect(await ok(id, 'read_file', { path: '/tmp/n/moved.txt' })).toBe('A')
    expect(await toolError(id, 'read_file', { path: '/tmp/m/a.txt' })).toMatch(/no such file/i)
    expect(await toolError(id, 'move_file', { source: '/tmp/m/b.txt', destination: '/tmp/n/moved.txt' })).toContain('already exists')
    await ok(id, 'move_file', { source: '/tmp/m', destination: 'm2' })
    expect(await ok(id, 'list_directory', { path: '/home/user/m2' })).toBe('[FILE] b.txt')
    expect(await toolError(id, 'move_file', { source: '/nope', destination: '/x' })).toMatch(/no such file/i)
  })

  it('deletes files, directory trees and symlinks (never their targets)', async () => {
    const id = await api.createSession()
    await ok(id, 'write_file', { path: '/tmp/d/keep.txt', content: 'keep' })
    await ok(id, 'write_file', { path: '/tmp/gone.txt', content: 'x' })
    await api.shell(id, 'ln -s /tmp/d /tmp/link')
    await ok(id, 'delete_file', { path: '/tmp/link' })
    expect(await ok(id, 'read_file', { path: '/tmp/d/keep.txt' })).toBe('keep')
    await ok(id, 'delete_file', { path: '/tmp/gone.txt' })
    await ok(id, 'delete_file', { path: '/tmp/d' })
    expect(await ok(id, 'list_directory', { path: '/tmp' })).toBe('')
    expect(await toolError(id, 'delete_file', { path: '/tmp/gone.txt' })).toMatch(/no such file/i)
    expect(await toolError(id, 'delete_file', { path: '/' })).toContain('root')
  })
})

describe('edit_file', () => {
  it('applies edits and returns a unified diff', async () => {
    const id = await api.createSession()
    await ok(id, 'write_file', { path: 'code.py', content: 'def f():\n    return 1\n\nprint(f())\n' })
    const diff = await ok(id, 'edit_file', { path: 'code.py', edits: [{ oldText: 'return 1', newText: 'return 2' }, { oldText: 'print(f())', newText: 'print(f() + 1)' }], dryRun: false })
    expect(diff).toContain('--- /home/user/code.py')
    expect(diff).toContain('+++ /home/user/code.py')
    expect(diff).toMatch(/^@@ -1,4 \+1,4 @@$/m)
    expect(diff).toContain('\n-    return 1\n+    return 2\n')
    expect(diff).toContain('\n-print(f())\n+print(f() + 1)\n')
    expect(await ok(id, 'read_file', { path: 'code.py' })).toBe('def f():\n    return 2\n\nprint(f() + 1)\n')
    expect((await api.shell(id, 'python3 code.py')).stdout).toBe('3\n')
  })

  it('previews with dryRun and matches lines ignoring indentation', async () => {
    const id = await api.createSession()
    await ok(id, 'write_file', { path: 'a.txt', content: 'alpha\n  beta\ngamma\n' })
    const diff = await ok(id, 'edit_file', { path: 'a.txt', edits: [{ oldText: 'beta', newText: 'BETA' }], dryRun: true })
    expect(diff).toContain('+  BETA')
    expect(await ok(id, 'read_file', { path: 'a.txt' })).toBe('alpha\n  beta\ngamma\n')
    await ok(id, 'edit_file', { path: 'a.txt', edits: [{ oldText: 'alpha\nbeta', newText: 'one\ntwo' }] })
    expect(await ok(id, 'read_file', { path: 'a.txt' })).toBe('one\ntwo\ngamma\n')
  })

  it('fails without changing the file when an oldText does not match', async () => {
    const id = await api.createSession()
    await ok(id, 'write_file', { path: 'a.txt', content: 'x = 1\n' })
    expect(await toolError(id, 'edit_file', { path: 'a.txt', edits: [{ oldText: 'x = 1', newText: 'x = 2' }, { oldText: 'y = 1', newText: 'y = 2' }] })).toContain('y = 1')
    expect(await ok(id, 'read_file', { path: 'a.txt' })).toBe('x = 1\n')
    expect(await toolError(id, 'edit_file', { path: 'a.txt', edits: [] })).toContain('edits')
  })
})

describe('search_files / read_multiple_files', () => {
  it('finds files by glob, by path glob and by partial name, honouring excludePatterns', async () => {
    const id = await api.createSession()
    await api.shell(id, 'mkdir -p /w/src/lib /w/node_modules/x /w/docs && touch /w/src/main.py /w/src/lib/util.py /w/src/lib/types.ts /w/node_modules/x/i.py /w/docs/README.md /w/Main.txt')
    expect((await ok(id, 'search_files', { path: '/w', pattern: '*.py' })).split('\n')).toEqual(['/w/node_modules/x/i.py', '/w/src/lib/util.py', '/w/src/main.py'])
    expect((await ok(id, 'search_files', { path: '/w', pattern: '*.py', excludePatterns: ['node_modules'] })).split('\n')).toEqual(['/w/src/lib/util.py', '/w/src/main.py'])
    expect(await ok(id, 'search_files', { path: '/w', pattern: 'src/**/*.ts' })).toBe('/w/src/lib/types.ts')
    expect((await ok(id, 'search_files', { path: '/w', pattern: 'main' })).split('\n')).toEqual(['/w/Main.txt', '/w/src/main.py'])
    expect(await ok(id, 'search_files', { path: '/w', pattern: '*.{md,txt}', excludePatterns: ['docs'] })).toBe('/w/Main.txt')
    expect(await ok(id, 'search_files', { path: '/w', pattern: '*.java' })).toBe('No matches found')
    expect(await toolError(id, 'search_files', { path: '/nope', pattern: '*' })).toMatch(/no such file/i)
  })

  it('searches the session\'s own files from /, not the read-only host binds, /proc or /dev', async () => {
    const id = await api.createSession()
    await ok(id, 'write_file', { path: '/tmp/python3-notes.txt', content: 'x' })
    const found = (await ok(id, 'search_files', { path: '/', pattern: 'python3*' })).split('\n')
    expect(found).toContain('/tmp/python3-notes.txt')
    expect(found.filter((p) => p.startsWith('/usr/') || p.startsWith('/proc/') || p.startsWith('/dev/'))).toEqual([])
    expect(await ok(id, 'search_files', { path: '/', pattern: 'cmdline' })).toBe('No matches found')
    expect((await ok(id, 'search_files', { path: '/usr/bin', pattern: 'python3' })).split('\n')).toContain('/usr/bin/python3') // asked for: searched
  })

  it('reads several files in "<path>: <content>" blocks separated by ---, with per-file errors', async () => {
    const id = await api.createSession()
    await ok(id, 'write_file', { path: '/tmp/a.txt', content: 'first\nfile' })
    await ok(id, 'write_file', { path: 'b.txt', content: 'second' })
    const text = await ok(id, 'read_multiple_files', { paths: ['/tmp/a.txt', 'b.txt', '/tmp/missing.txt'] })
    expect(text).toBe('/tmp/a.txt: first\nfile\n---\nb.txt: second\n---\n/tmp/missing.txt: Error - No such file or directory')
  })
})

describe('get_file_change', () => {
  it('returns [] first, then create/modify/delete events since the previous call', async () => {
    const id = await api.createSession()
    await ok(id, 'write_file', { path: '/watch/old.txt', content: 'old' })
    await ok(id, 'write_file', { path: '/watch/edit.txt', content: 'v1' })
    expect(JSON.parse(await ok(id, 'get_file_change', { path: '/watch' }))).toEqual([])
    await ok(id, 'write_file', { path: '/watch/new.txt', content: 'new' })
    await ok(id, 'write_file', { path: '/watch/edit.txt', content: 'version 2' })
    await ok(id, 'create_directory', { path: '/watch/sub' })
    await ok(id, 'delete_file', { path: '/watch/old.txt' })
    expect(JSON.parse(await ok(id, 'get_file_change', { path: '/watch' }))).toEqual([
      { eventType: 'modify', path: '/watch/edit.txt', pathType: 'file' },
      { eventType: 'create', path: '/watch/new.txt', pathType: 'file' },
      { eventType: 'delete', path: '/watch/old.txt', pathType: 'file' },
      { eventType: 'create', path: '/watch/sub', pathType: 'directory' },
    ])
    expect(JSON.parse(await ok(id, 'get_file_change', { path: '/watch' }))).toEqual([])
    await api.shell(id, 'echo x > /watch/sub/from-shell.txt')
    expect(JSON.parse(await ok(id, 'get_file_change', { path: '/watch' }))).toEqual([{ eventType: 'create', path: '/watch/sub/from-shell.txt', pathType: 'file' }])
  })

  it('keeps baselines per session and per path, and fails for a missing path', async () => {
    const a = await api.createSession()
    const b = await api.createSession()
    await ok(a, 'get_file_change', { path: '/tmp' })
    await ok(a, 'write_file', { path: '/tmp/x', content: 'x' })
    expect(JSON.parse(await ok(b, 'get_file_change', { path: '/tmp' }))).toEqual([])
    expect(JSON.parse(await ok(a, 'get_file_change', { path: '/home/user' }))).toEqual([])
    expect(JSON.parse(await ok(a, 'get_file_change', { path: '/tmp' }))).toEqual([{ eventType: 'create', path: '/tmp/x', pathType: 'file' }])
    expect(await toolError(a, 'get_file_change', { path: '/nope' })).toContain('/nope')
  })
})

describe('one file system for every tool', () => {
  it('shows a file written by write_file to shell and run_code at the same path, and the other way round', async () => {
    const id = await api.createSession()
    await ok(id, 'write_file', { path: '/tmp/shared.txt', content: 'from write_file' })
    expect((await api.shell(id, 'cat /tmp/shared.txt')).stdout).toBe('from write_file')
    expect((await api.runCode(id, "open('/tmp/shared.txt').read()")).result[0]['text/plain']).toBe("'from write_file'")
    expect((await api.runCode(id, "require('fs').readFileSync('/tmp/shared.txt', 'utf8')", 'javascript')).result[0]['text/plain']).toBe("'from write_file'")
    await api.shell(id, 'echo from-shell > ~/s.txt')
    expect(await ok(id, 'read_file', { path: '/home/user/s.txt' })).toBe('from-shell\n')
    await api.runCode(id, "open('/tmp/py.txt', 'w').write('from python')")
    expect(await ok(id, 'read_file', { path: '/tmp/py.txt' })).toBe('from python')
    expect(await ok(id, 'list_directory', { path: '/tmp' })).toBe('[FILE] py.txt\n[FILE] shared.txt')
  })
})

describe('ownership', () => {
  it('gives files and directories the tools create the sandbox user as owner, as the shell does', async () => {
    const id = await api.createSession()
    await ok(id, 'write_file', { path: '/tmp/tool/dir/by-tool.txt', content: 'x' })
    await ok(id, 'create_directory', { path: '/tmp/made' })
    const res = await api.shell(id, 'touch /tmp/by-shell.txt; stat -c "%u:%g %n" /tmp/by-shell.txt /tmp/tool /tmp/tool/dir /tmp/tool/dir/by-tool.txt /tmp/made')
    const owners = res.stdout.trim().split('\n').map((l) => l.split(' ')[0])
    expect(owners, res.stdout + res.stderr).toEqual(Array(5).fill(owners[0]))
    expect(owners[0]).not.toBe('0:0')
    expect(await ok(id, 'get_file_info', { path: '/tmp/tool/dir/by-tool.txt' })).toMatch(/^owner: user$/m)
  })
})

describe('confinement to the session root', () => {
  const hostSecret = join(dataDir, 'host-secret.txt')
  writeFileSync(hostSecret, 'HOST SECRET')

  it('resolves ../ escapes inside the root', async () => {
    const id = await api.createSession()
    const passwd = await ok(id, 'read_file', { path: '../../etc/passwd' })
    expect(passwd).toBe(readFileSync(join(rootOf(id), 'etc/passwd'), 'utf8')) // the sandbox's own
    expect(passwd).not.toBe(readFileSync('/etc/passwd', 'utf8'))
    await ok(id, 'write_file', { path: '../../../../../../../tmp/escaped.txt', content: 'x' })
    expect(existsSync(join(rootOf(id), 'tmp/escaped.txt'))).toBe(true)
    expect(await toolError(id, 'read_file', { path: `../../../..${hostSecret}` })).toMatch(/no such file/i)
  })

  it('never follows a symlink out of the root, however it points', async () => {
    const id = await api.createSession()
    await api.shell(id, `ln -s /etc/passwd ~/pw; ln -s ${hostSecret} ~/abs; ln -s ../../../../../../../..${hostSecret} ~/rel; ln -s ${dataDir} ~/data; ln -s / ~/top`)
    expect(await ok(id, 'read_file', { path: 'pw' })).toBe(readFileSync(join(rootOf(id), 'etc/passwd'), 'utf8'))
    for (const path of ['abs', 'rel', `data/${'host-secret.txt'}`]) {
      const text = await toolError(id, 'read_file', { path })
      expect(text).not.toContain('HOST SECRET')
    }
    expect(await ok(id, 'list_directory', { path: 'top' })).toContain('[DIR] home')
    // Writes through such links land inside the root.
    await ok(id, 'write_file', { path: 'data/planted.txt', content: 'x' })
    expect(existsSync(join(dataDir, 'planted.txt'))).toBe(false)
    expect(existsSync(join(rootOf(id), dataDir, 'planted.txt'))).toBe(true)
    const multi = await ok(id, 'read_multiple_files', { paths: ['abs', 'rel'] })
    expect(multi).not.toContain('HOST SECRET')
    expect(await ok(id, 'search_files', { path: '/home/user', pattern: '*secret*' })).toBe('No matches found')
  })

  it('does not reach another session through a symlink to its directory', async () => {
    const a = await api.createSession()
    const b = await api.createSession()
    await ok(b, 'write_file', { path: '/tmp/b-secret.txt', content: 'B SECRET' })
    const bFile = join(rootOf(b), 'tmp/b-secret.txt')
    await api.shell(a, `ln -s ${bFile} /tmp/to-b; ln -s ${rootOf(b)} /tmp/b-root`)
    expect(await toolError(a, 'read_file', { path: '/tmp/to-b' })).not.toContain('B SECRET')
    expect(await toolError(a, 'list_directory', { path: '/tmp/b-root/tmp' })).toMatch(/no such file/i)
    expect(await toolError(a, 'delete_file', { path: '/tmp/b-root/tmp/b-secret.txt' })).toMatch(/no such file/i)
    await ok(a, 'move_file', { source: '/tmp/to-b', destination: '/tmp/moved-link' }) // moves the link itself
    await ok(a, 'delete_file', { path: '/tmp/moved-link' })
    expect(readFileSync(bFile, 'utf8')).toBe('B SECRET')
  })
})

describe('resolveSessionPath (chroot-style)', () => {
  const root = mkdtempSync(join(tmpdir(), 'agb-resolve-'))
  mkdirSync(join(root, 'home/user'), { recursive: true })
  mkdirSync(join(root, 'data/real'), { recursive: true })
  symlinkSync('/data/real', join(root, 'home/user/abs'))
  symlinkSync('../../data/real', join(root, 'home/user/rel'))
  symlinkSync('/etc', join(root, 'home/user/etc'))
  symlinkSync('loop2', join(root, 'loop1'))
  symlinkSync('loop1', join(root, 'loop2'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('resolves absolute and relative link targets inside the root', () => {
    expect(resolveSessionPath(root, 'abs/x.txt')).toBe(join(root, 'data/real/x.txt'))
    expect(resolveSessionPath(root, 'rel/x.txt')).toBe(join(root, 'data/real/x.txt'))
    expect(resolveSessionPath(root, 'etc/passwd')).toBe(join(root, 'etc/passwd'))
    expect(resolveSessionPath(root, '/home/user/abs/../../../../..')).toBe(root)
  })

  it('addresses the link itself with followLast: false', () => {
    expect(resolveSessionPath(root, 'abs', { followLast: false })).toBe(join(root, 'home/user/abs'))
    expect(resolveSessionPath(root, 'abs/y', { followLast: false })).toBe(join(root, 'data/real/y'))
  })

  it('reports symlink loops', () => {
    expect(() => resolveSessionPath(root, '/loop1/x')).toThrow(/symbolic links/)
  })
})

describe('large transfers through the sandbox', () => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  /** Retained memory (buffers and heap) after collecting garbage twice, a turn apart. */
  const retained = async () => {
    gc()
    await new Promise((r) => setTimeout(r, 1))
    gc()
    const m = process.memoryUsage()
    return m.arrayBuffers + m.heapUsed
  }

  it('streams 100 MB out of and back into a session (oss_upload, oss_download) holding a few MiB at most', async () => {
    const id = await api.createSession()
    const made = await api.shell(id, 'head -c 104857600 /dev/urandom > /tmp/big.bin && sha256sum /tmp/big.bin')
    const sha = made.stdout.split(' ')[0]
    expect(sha, made.stderr).toMatch(/^[0-9a-f]{64}$/)
    await ok(id, 'oss_env_init', { access_key_id: local.oss.accessKeyId, access_key_secret: local.oss.accessKeySecret, security_token: null })
    const base = await retained()
    let peak = 0
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, (await retained()) - base)
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    try {
      expect(await ok(id, 'oss_upload', { bucket: local.oss.bucket, object: 'big/100mb.bin', path: '/tmp/big.bin' })).toBe('Upload success')
      expect(await ok(id, 'oss_download', { bucket: local.oss.bucket, object: 'big/100mb.bin', path: '/tmp/back.bin' })).toBe('Download success')
    } finally {
      sampling = false
      await sampler
    }
    expect((await api.shell(id, 'sha256sum /tmp/back.bin; ls -A /tmp')).stdout).toBe(`${sha}  /tmp/back.bin\nback.bin\nbig.bin\n`)
    console.log(`100 MB through the sandbox: peak retained ${(peak / 1048576).toFixed(1)} MiB`)
    expect(peak).toBeLessThan(32 * 1024 * 1024)
  }, 120_000)
})

describe.runIf(process.getuid?.() === 0)('the sandbox agent that performs file operations', () => {
  const logs: string[] = []
  const own = createAgbLocal({ isolation: 'bwrap', log: (line) => logs.push(line) })
  const ownApi = localClient(own)
  afterAll(() => own.close())
  // Sandboxed code can no longer reach the agent's descriptors or signal it (the agent is its
  // namespace's non-dumpable init: test/server/attacks/redteamSandbox.test.ts). The host (root)
  // plays that part here, so the server is still checked never to trust what the agent's
  // output carries.
  /** Host pid of the session's agent: python with `agb-local-agent <id>` in its argv. */
  const agentPid = (id: string) => pidsMatching(`agb-local-agent ${id}`).find((pid) => /python/.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0]!))!
  /** Writes `lines` into the agent's output through a copy of its descriptor (pidfd_getfd). */
  const forge = async (id: string, lines: string) => {
    await ownApi.shell(id, 'true') // the agent runs
    const py = `import ctypes, os, sys\nlibc = ctypes.CDLL(None, use_errno=True)\nfd = libc.syscall(438, os.pidfd_open(int(sys.argv[1])), 1, 0)  # pidfd_getfd\nassert fd >= 0, os.strerror(ctypes.get_errno())\nout = os.fdopen(fd, 'wb', buffering=0)\nfor line in ${lines}:\n    out.write(line)\nprint('forged')\n`
    return await new Promise<string>((resolve) => execFile('python3', ['-c', py, String(agentPid(id))], (_e, stdout, stderr) => resolve(stdout || stderr)))
  }

  it('ignores lines forged into its output by sandboxed code and keeps answering', async () => {
    const id = await ownApi.createSession()
    const lines = `[b'not json\\n', b'null\\n', b'[1,2]\\n', b'{"op":"fsr","rid":999999,"ok":{}}\\n', b'{"op":"fsp","rid":"x","entries":7}\\n', b'{"op":"fsr","rid":1,"error":"x"}\\n', b'{"op":"fsp","rid":1,"bin":3}\\nabc']`
    expect(await forge(id, lines)).toBe('forged\n')
    await ownApi.callTool(id, 'write_file', { path: '/tmp/after.txt', content: 'still here' })
    expect((await ownApi.callTool(id, 'read_file', { path: '/tmp/after.txt' })).text).toBe('still here')
    expect((await ownApi.callTool(id, 'list_directory', { path: '/tmp' })).text).toBe('[FILE] after.txt')
  })

  it.each([['a 9 MB line', `[b'x' * 9000000 + b'\\n']`, '9000000'], ['a 1 GB raw block announced', `[b'{"op":"fsp","rid":1,"bin":1000000000}\\n']`, '1000000000']])(
    'stops a sandbox whose output carries %s (never the agent\'s), and the next file operation gets a new one', async (_what, lines, bytes) => {
      const id = await ownApi.createSession()
      await forge(id, lines)
      await waitFor(() => logs.some((l) => l.includes(`wrote a ${bytes}-byte message; stopping it`)))
      expect((await ownApi.callTool(id, 'write_file', { path: '/tmp/new.txt', content: 'new' })).text).toBe('Successfully wrote to /tmp/new.txt')
      expect((await ownApi.callTool(id, 'read_file', { path: '/tmp/new.txt' })).text).toBe('new')
    })

  it('starts again for the next file operation after its agent was killed', async () => {
    const id = await ownApi.createSession()
    await ownApi.shell(id, 'true')
    process.kill(agentPid(id), 'SIGKILL')
    await waitFor(() => logs.some((l) => l.includes(`the sandbox of ${id} stopped`)))
    const after = await ownApi.callTool(id, 'write_file', { path: '/home/user/again.txt', content: 'again' })
    expect(after.text).toBe('Successfully wrote to /home/user/again.txt')
    expect((await ownApi.shell(id, 'cat /home/user/again.txt')).stdout).toBe('again')
  })
})

describe('without the sandbox agent (no python3 on the host)', () => {
  it('refuses file operations with an error naming the operation, the path and what to install', async () => {
    const { createDirectSandbox } = await import('../../server/sandbox/createDirectSandbox.ts')
    const { resolveConfig } = await import('../../server/config.ts')
    const root = mkdtempSync(join(tmpdir(), 'agb-direct-'))
    try {
      const sandbox = createDirectSandbox(resolveConfig({ isolation: 'none' }), { id: 'direct', rootDir: root })
      await expect(sandbox.fs.readFile('notes.txt', { max: 10 })).rejects.toThrow("ESANDBOX: file operations need python3 on the host (AGB Local performs them inside the session sandbox with it); install python3, open '/home/user/notes.txt'")
      await expect(sandbox.fs.writeFile('/tmp/x', 'x')).rejects.toMatchObject({ code: 'ESANDBOX', path: '/tmp/x' })
      expect(readdirSync(root)).toEqual([])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
