import { randomBytes } from 'node:crypto'
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../../server/index.ts'
import { storageClient } from '../storageHelpers.ts'

// Attack: sandboxed code swaps a real directory and a symlink to a host directory in a tight
// loop (renameat2 RENAME_EXCHANGE), while every file operation that reaches into the session
// — the file tools, the OSS tools, context sync and presigned transfer — is called on paths
// through that directory. If any of them checks the path and then acts on it on the host, it
// sooner or later follows the link that is there by then and touches the host directory
// ("canary"). The canary must be untouched (content, existence, no new entries) and nothing
// of it may be returned, listed, copied into the session or uploaded to the store.

const HAMMER_MS = 5000
/** Concurrent loops per attack (default 2): more for the slow ones, which poll for their sync task. */
const LOOPS: Record<string, number> = { context_sync: 5, presigned_transfer: 5, oss_upload: 3 }
const TOKEN = randomBytes(8).toString('hex')
const MARK = `CANARY-${TOKEN}` // in every canary file; never sent by the test
const ONLY = `only-${TOKEN}.txt` // a name that exists in the canary only
const ONLY_DIR = `onlydir-${TOKEN}` // a directory that exists in the canary only

const dataDir = mkdtempSync(join(tmpdir(), 'agb-race-'))
const canary = mkdtempSync(join(tmpdir(), 'agb-canary-'))
const local = createAgbLocal({ isolation: 'bwrap', dataDir })
const api = storageClient((u, i) => local.fetch(u, i), 'http://agb.local', local.apiKey)

// The same names in the canary and in each swapped session directory.
const FILES = ['read.txt', 'multi.txt', 'edit.txt', 'write.txt', 'del.txt', 'move-out.txt', 'deldir/inner.txt', 'sub/deep.txt']
for (const f of [...FILES, ONLY]) {
  mkdirSync(join(canary, f, '..'), { recursive: true })
  writeFileSync(join(canary, f), `${MARK} ${f} target\n`)
}
mkdirSync(join(canary, ONLY_DIR))

interface Node {
  type: 'dir' | 'file' | 'link' | 'other'
  size: number
  mtimeMs: number
  content?: string
}

function snapshot(dir: string): Map<string, Node> {
  const out = new Map<string, Node>()
  const walk = (rel: string) => {
    const st = lstatSync(join(dir, rel))
    const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'link' : 'other'
    out.set(rel || '.', { type, size: st.size, mtimeMs: st.mtimeMs, ...(type === 'file' ? { content: readFileSync(join(dir, rel), 'utf8') } : {}) })
    if (type === 'dir') for (const name of readdirSync(join(dir, rel)).sort()) walk(rel ? `${rel}/${name}` : name)
  }
  walk('')
  return out
}
const canaryBefore = snapshot(canary)

// Swapped directories: each name alternates between a real session directory and a link to
// the canary, written as an absolute path, as a climb out of the root, and as `/../..`.
const DOTS = '../'.repeat(16)
const SWAPPED: Array<[string, string]> = [
  ['/home/user/w_abs', canary],
  ['/home/user/w_rel', `${DOTS.slice(0, -1)}${canary}`],
  ['/home/user/w_root', `/../../../..${canary}`],
  ['/tmp/file_transfer', canary],
]
const DIRS = SWAPPED.slice(0, 3).map(([d]) => d)

// Runs in the sandbox: sets the pairs up, refills the real directories (through descriptors,
// so it never writes through a link), and swaps until told to stop or `seconds` passed.
const SWAPPER = String.raw`
import ctypes, json, os, sys, time
cfg = json.load(open('/tmp/swap.json'))
libc = ctypes.CDLL(None, use_errno=True)
NR = {'x86_64': 316, 'aarch64': 276}.get(os.uname().machine)
def exchange(a, b):
    if (libc.syscall(NR, -100, a, -100, b, 2) if NR else libc.renameat2(-100, a, -100, b, 2)) != 0:
        raise OSError(ctypes.get_errno(), 'renameat2 ' + a.decode())
pairs, fds = [], []
for real, target in cfg['pairs']:
    link = real + '.lnk'
    os.makedirs(real, exist_ok=True)
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(target, link)
    pairs.append((real.encode(), link.encode()))
    fds.append(os.open(real, os.O_RDONLY | os.O_DIRECTORY))
def refill():
    for fd in fds:
        for rel in cfg['files']:
            try:
                parent = os.path.dirname(rel)
                if parent:
                    try:
                        os.mkdir(parent, dir_fd=fd)
                    except FileExistsError:
                        pass
                f = os.open(rel, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644, dir_fd=fd)
                os.write(f, ('session ' + rel + ' target\n').encode())
                os.close(f)
            except OSError as e:  # e.g. a directory the sandbox user may not write
                sys.stderr.write('refill %s: %s\n' % (rel, e))
refill()
open('/tmp/swap.ready', 'w').close()
swaps, end, last = 0, time.time() + cfg['seconds'], 0
while time.time() < end and not os.path.exists('/tmp/swap.stop'):
    for _ in range(10):
        for a, b in pairs:
            try:
                exchange(a, b)
                swaps += 1
            except OSError as e:
                sys.stderr.write('%s\n' % e)
    if time.time() - last > 0.02:
        refill()
        last = time.time()
    time.sleep(0.002)  # leave CPU to the agent: the session's processes share a CPU limit
for a, b in pairs:
    if os.path.islink(a):
        exchange(a, b)
open('/tmp/swap.done', 'w').write('%d\n' % swaps)
`

/** Per attack: calls made, and what escaped (host data returned, host touched). */
const outcomes = new Map<string, { calls: number; escapes: string[] }>()
function record(attack: string, escape?: string): void {
  const o = outcomes.get(attack) ?? { calls: 0, escapes: [] }
  if (escape === undefined) o.calls++
  else if (o.escapes.length < 5) o.escapes.push(escape)
  else o.escapes.length++
  outcomes.set(attack, o)
}

let sessionId = ''
let contextId = ''
let transferId = ''
let swaps = 0
let swapperOutput = ''
const canaryChanges: string[] = []

async function tool(attack: string, name: string, args: Record<string, unknown>): Promise<{ text: string; isError: boolean }> {
  const res = await api.tool(sessionId, name, args)
  record(attack)
  if (res.text.includes(MARK)) record(attack, `${name} returned host file content`)
  return res
}

/** A sync task; one still running after the helper's polling (a loaded machine) is left to finish. */
async function sync(context: string, path: string, mode: 'upload' | 'download'): Promise<void> {
  await api.sync(sessionId, context, path, mode).catch((e: Error) => {
    if (!e.message.includes('sync did not finish')) throw e
  })
}

async function presigned(kind: 'Upload' | 'Download', filePath: string): Promise<string> {
  return (await api.post(`/sdk/GetContextFile${kind}Url`, { contextId: transferId, filePath })).json.data.url as string
}

/** Each attack once, on the n-th swapped directory. */
const attacks: Record<string, (d: string, n: string) => Promise<void>> = {
  async read_file(d) {
    await tool('read_file', 'read_file', { path: `${d}/read.txt` })
    const bin = await tool('read_file', 'read_file', { path: `${d}/read.txt`, format: 'binary' })
    if (!bin.isError && Buffer.from(bin.text, 'base64').toString().includes(MARK)) record('read_file', 'read_file (binary) returned host file content')
  },
  async write_file(d, n) {
    await tool('write_file', 'write_file', { path: `${d}/write.txt`, content: 'PWNED overwrite', mode: 'overwrite' })
    await tool('write_file', 'write_file', { path: `${d}/write.txt`, content: 'PWNED append', mode: 'append' })
    await tool('write_file', 'write_file', { path: `${d}/new-${n}/f.txt`, content: 'PWNED new', mode: 'create_new' })
  },
  async edit_file(d) {
    await tool('edit_file', 'edit_file', { path: `${d}/edit.txt`, edits: [{ oldText: 'target', newText: 'EDITED' }] })
  },
  async move_file(d, n) {
    const out = await tool('move_file', 'move_file', { source: `${d}/move-out.txt`, destination: `/home/user/got/${n}.txt` })
    if (!out.isError) await tool('move_file', 'read_file', { path: `/home/user/got/${n}.txt` })
    await tool('move_file', 'write_file', { path: `/home/user/plant-${n}.txt`, content: 'planted' })
    await tool('move_file', 'move_file', { source: `/home/user/plant-${n}.txt`, destination: `${d}/planted-${n}.txt` })
  },
  async delete_file(d) {
    await tool('delete_file', 'delete_file', { path: `${d}/del.txt` })
    await tool('delete_file', 'delete_file', { path: `${d}/deldir` })
  },
  async create_directory(d, n) {
    await tool('create_directory', 'create_directory', { path: `${d}/mkdir-${n}/x` })
  },
  async list_directory(d) {
    const res = await tool('list_directory', 'list_directory', { path: d })
    if (res.text.includes(ONLY)) record('list_directory', 'list_directory listed the host directory')
  },
  async get_file_info(d) {
    const res = await tool('get_file_info', 'get_file_info', { path: `${d}/${ONLY}` })
    if (!res.isError) record('get_file_info', 'get_file_info described a host file')
  },
  async search_files(d) {
    const res = await tool('search_files', 'search_files', { path: d, pattern: '*.txt' })
    if (res.text.includes(ONLY)) record('search_files', 'search_files found a host file')
  },
  async read_multiple_files(d) {
    const res = await tool('read_multiple_files', 'read_multiple_files', { paths: [`${d}/multi.txt`, `${d}/${ONLY}`] })
    if (!res.text.split('\n---\n')[1]?.startsWith(`${d}/${ONLY}: Error - `)) record('read_multiple_files', 'read_multiple_files read a host file')
  },
  async get_file_change(d) {
    const res = await tool('get_file_change', 'get_file_change', { path: d })
    if (res.text.includes(ONLY)) record('get_file_change', 'get_file_change reported a host file')
  },
  async shell_cwd(d) {
    // The working directory exists only in the canary: anything but "No such file" tells the host's.
    const res = await tool('shell_cwd', 'shell', { command: 'ls -a', cwd: `${d}/${ONLY_DIR}`, timeout_ms: 20_000 })
    const out = res.isError ? undefined : (JSON.parse(res.text) as { stderr: string; exit_code: number })
    if (out?.exit_code !== 2 || !out.stderr.endsWith('No such file or directory')) record('shell_cwd', `shell looked at the host directory: ${res.text.slice(0, 120)}`)
  },
  async oss_upload(d, n) {
    await tool('oss_upload', 'oss_upload', { bucket: local.oss.bucket, object: `up/${n}/`, path: d })
    await tool('oss_upload', 'oss_upload', { bucket: local.oss.bucket, object: `up/${n}.txt`, path: `${d}/read.txt` })
  },
  async oss_download(d, n) {
    await tool('oss_download', 'oss_download', { bucket: local.oss.bucket, object: 'seed.txt', path: `${d}/oss-dl-${n}.txt` })
    await tool('oss_download', 'oss_download', { bucket: local.oss.bucket, object: 'seed.txt', path: `${d}/` })
  },
  async oss_upload_annon(d, n) {
    await tool('oss_upload_annon', 'oss_upload_annon', { url: local.oss.presign('PUT', local.oss.bucket, `anon-up/${n}.txt`, 600), path: `${d}/read.txt` })
  },
  async oss_download_annon(d, n) {
    await tool('oss_download_annon', 'oss_download_annon', { url: local.oss.presign('GET', local.oss.bucket, 'seed.txt', 600), path: `${d}/anon-dl-${n}.txt` })
  },
  async context_sync(d) {
    record('context_sync')
    await sync(contextId, d, 'download')
    await sync(contextId, d, 'upload')
  },
  async presigned_transfer(_d, n) {
    record('presigned_transfer')
    await local.fetch(await presigned('Upload', `/tmp/file_transfer/xfer-in-${n}.txt`), { method: 'PUT', body: 'transfer in' })
    await sync(transferId, '/tmp/file_transfer', 'download')
    await sync(transferId, '/tmp/file_transfer', 'upload')
    for (const f of ['read.txt', ONLY]) {
      const res = await local.fetch(await presigned('Download', `/tmp/file_transfer/${f}`))
      if ((await res.text()).includes(MARK)) record('presigned_transfer', `presigned download returned host ${f}`)
    }
  },
}

/** Which attack a host-side trace (a name in the canary, a store key, a session file) points at. */
function attackOf(name: string): string {
  const rules: Array<[RegExp, string]> = [
    [/^(write\.txt|new-)/, 'write_file'], [/^edit\.txt/, 'edit_file'], [/^(move-out\.txt|planted-|got\/)/, 'move_file'],
    [/^(del\.txt|deldir)/, 'delete_file'], [/^mkdir-/, 'create_directory'], [/^oss-dl-|^seed\.txt|^\.agb-.*\.part$/, 'oss_download'],
    [/^anon-dl-/, 'oss_download_annon'], [/^up\//, 'oss_upload'], [/^anon-up\//, 'oss_upload_annon'], [/^ctx-dl/, 'context_sync'],
    [/^xfer-in-|file_transfer/, 'presigned_transfer'], [/^ctx-/, 'context_sync'],
  ]
  return rules.find(([re]) => re.test(name))?.[1] ?? 'unattributed'
}

beforeAll(async () => {
  sessionId = await api.createSession()
  // The store holds objects the download attacks fetch, and a context to sync.
  expect((await local.fetch(local.oss.presign('PUT', local.oss.bucket, 'seed.txt', 600), { method: 'PUT', body: 'seed' })).status).toBe(200)
  contextId = (await api.get('/sdk/GetContext', { name: `race-${TOKEN}`, allowCreate: 'true' })).json.data.id
  for (const d of DIRS) {
    const url = (await api.post('/sdk/GetContextFileUploadUrl', { contextId, filePath: `${d}/ctx-dl.txt` })).json.data.url
    expect((await local.fetch(url, { method: 'PUT', body: 'context file' })).status).toBe(200)
  }
  transferId = (await api.post('/sdk/GetAndLoadInternalContext', { sessionId, contextTypes: '["file_transfer"]' })).json.data[0].contextId
  expect((await api.tool(sessionId, 'oss_env_init', { access_key_id: local.oss.accessKeyId, access_key_secret: local.oss.accessKeySecret, security_token: null })).isError).toBe(false)

  await api.tool(sessionId, 'write_file', { path: '/tmp/swap.py', content: SWAPPER })
  await api.tool(sessionId, 'write_file', { path: '/tmp/swap.json', content: JSON.stringify({ pairs: SWAPPED, files: FILES, seconds: HAMMER_MS / 1000 + 20 }) })
  const started = await api.shell(sessionId, 'setsid python3 /tmp/swap.py > /tmp/swap.log 2>&1 < /dev/null & for i in $(seq 300); do [ -e /tmp/swap.ready ] && break; sleep 0.05; done; cat /tmp/swap.log; ls /tmp/swap.ready')
  expect(started.exit_code, started.stdout + started.stderr).toBe(0)

  // Every attack in loops of its own, so slow ones (syncs poll for their task) do not hold back the others.
  const deadline = Date.now() + HAMMER_MS
  await Promise.all(Object.entries(attacks).flatMap(([attack, run]) => Array.from({ length: LOOPS[attack] ?? 2 }, async (_, w) => {
    for (let i = 0; Date.now() < deadline; i++) await run(DIRS[(i + w) % DIRS.length]!, `${w}-${i}`)
  })))

  const stopped = await api.shell(sessionId, 'touch /tmp/swap.stop; for i in $(seq 200); do [ -e /tmp/swap.done ] && break; sleep 0.05; done; cat /tmp/swap.done; cat /tmp/swap.log')
  swaps = Number(stopped.stdout.trim().split('\n')[0])
  swapperOutput = `${stopped.stdout}${stopped.stderr}`

  // Host data that reached the session (moved or copied in) or the object store.
  const root = join(dataDir, 'sessions', sessionId, 'root')
  for (const [path, node] of snapshot(root)) {
    if (path.startsWith('usr') || path.startsWith('proc')) continue
    if (node.content?.includes(MARK) || path.includes(ONLY)) record(attackOf(path.replace(/^home\/user\//, '')), `host file copied into the session: /${path}`)
  }
  // The canary itself: every entry as before (a new or removed entry changes the directory's mtime too).
  const after = snapshot(canary)
  for (const [path, node] of after) {
    const old = canaryBefore.get(path)
    if (!old) canaryChanges.push(`new ${path}`)
    else if (JSON.stringify(old) !== JSON.stringify(node)) canaryChanges.push(`changed ${path}`)
  }
  for (const path of canaryBefore.keys()) if (!after.has(path)) canaryChanges.push(`removed ${path}`)
  for (const c of canaryChanges) record(attackOf(c.split(' ')[1]!), `host canary ${c}`)
  const buckets = join(dataDir, 'storage', 'buckets')
  for (const bucket of readdirSync(buckets)) {
    for (const name of readdirSync(join(buckets, bucket)).filter((f) => f.endsWith('.json'))) {
      const key = (JSON.parse(readFileSync(join(buckets, bucket, name), 'utf8')) as { key: string }).key
      const body = readFileSync(join(buckets, bucket, name.slice(0, -'.json'.length)), 'utf8')
      if (body.includes(MARK) || key.includes(ONLY)) record(bucket === 'agb-context' ? (key.includes('file_transfer') ? 'presigned_transfer' : 'context_sync') : attackOf(key), `host file uploaded to the store: ${bucket}/${key}`)
    }
  }
}, HAMMER_MS + 120_000)

afterAll(async () => {
  const rows = [...outcomes].map(([attack, o]) => `| ${attack} | ${o.calls} | ${o.escapes.length ? o.escapes.slice(0, 2).join('; ') : 'none'} | ${o.escapes.length ? 'ESCAPED' : 'blocked'} |`)
  console.log([
    `\nFile race attack: every attack in 2-5 concurrent loops for ${HAMMER_MS} ms against ${swaps} directory/symlink swaps (renameat2 RENAME_EXCHANGE) in the sandbox`,
    '| attack | calls | host data touched or returned | outcome |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n'))
  await local.close()
  rmSync(dataDir, { recursive: true, force: true })
  rmSync(canary, { recursive: true, force: true })
})

describe('file operations raced onto host paths by a directory/symlink swapper', () => {
  it('ran the swapper in the sandbox throughout the attack', () => {
    expect(swaps, swapperOutput).toBeGreaterThan(1000)
  })

  it.each(Object.keys(attacks))('%s never touches or returns the host directory', (attack) => {
    const o = outcomes.get(attack)
    expect(o?.calls).toBeGreaterThan(0)
    expect(o?.escapes).toEqual([])
  })

  it('leaves the host canary directory exactly as it was (content, entries, times)', () => {
    expect(canaryChanges).toEqual([])
  })

  it('attributes nothing to an unknown attack', () => {
    expect(outcomes.get('unattributed')?.escapes ?? []).toEqual([])
  })
})
