// `agb-micro/local` as users get it: the packed tarball (npm pack), unpacked into a scratch
// project in a temp dir, imported by name. Needs the build (`npm run build`, as `npm test` does).
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
let dir: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'agb-local-export-'))
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  const tarball = join(dir, (JSON.parse(out) as { filename: string }[])[0]!.filename)
  mkdirSync(join(dir, 'node_modules'))
  execFileSync('tar', ['-xzf', tarball, '-C', join(dir, 'node_modules')])
  execFileSync('mv', [join(dir, 'node_modules/package'), join(dir, 'node_modules/agb-micro')])
  // The package's own dependencies (and @types/node for the type check), as npm would install them.
  for (const dep of ['ofetch', 'valibot', '@types']) symlinkSync(join(root, 'node_modules', dep), join(dir, 'node_modules', dep))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }))
}, 120_000)
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('agb-micro/local from the packed tarball', () => {
  it('is importable by a scratch project: createAgbLocal, serve and faults work as in this repository', () => {
    writeFileSync(join(dir, 'suite.mjs'), `
import { createAgbLocal, serve } from 'agb-micro/local'
import { createClient, createSession, deleteSession, exec, isAgbError } from 'agb-micro'
const local = createAgbLocal({ apiKey: 'akm-scratch' })
const server = await serve(local)
try {
  const client = createClient({ apiKey: 'akm-scratch', endpoint: server.url, retry: false })
  const session = await createSession(client, { imageId: 'agb-code-space-1' })
  const ok = await exec(client, session, 'echo from-scratch')
  local.faults.add({ route: '/mcp', tool: 'shell', kind: 'status', status: 503, times: 1 })
  const failed = await exec(client, session, 'echo again').catch((e) => e)
  const injected = await local.fetch('http://agb.local/mcp/listTools?imageId=agb-code-space-1', { method: 'POST', headers: { authorization: 'Bearer akm-scratch' }, body: '{}' })
  await deleteSession(client, session)
  console.log(JSON.stringify({ stdout: ok.stdout, faulted: isAgbError(failed, 'server_error'), handler: (await injected.json()).success, keys: Object.keys(local).sort() }))
} finally {
  await server.close()
  await local.close()
}
`)
    const result = JSON.parse(execFileSync(process.execPath, ['suite.mjs'], { cwd: dir, encoding: 'utf8', timeout: 60_000 }).trim().split('\n').pop()!)
    expect(result).toMatchObject({ stdout: 'from-scratch\n', faulted: true, handler: true })
    expect(result.keys).toEqual(expect.arrayContaining(['apiKey', 'close', 'faults', 'fetch', 'handler', 'handleUpgrade', 'requests']))
  }, 90_000)

  it('ships types: a TypeScript project type-checks against them (node16 resolution)', () => {
    writeFileSync(join(dir, 'check.ts'), `
import { createAgbLocal, serve, type AgbLocal, type AgbLocalOptions, type FaultSpec, type Server } from 'agb-micro/local'
const options: AgbLocalOptions = { apiKey: 'k', images: ['my-image'] }
const local: AgbLocal = createAgbLocal(options)
const fault: FaultSpec = { route: '/mcp', kind: 'status', status: 503, times: 2 }
local.faults.add(fault)
export const started: Promise<Server> = serve(local, { port: 0 })
// @ts-expect-error: a kind that does not exist
local.faults.add({ kind: 'explode' })
`)
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'node16', moduleResolution: 'node16', target: 'es2022', types: ['node'], skipLibCheck: false } }))
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' })
  }, 60_000)

  it('stays out of the isomorphic entry: a browser bundle of agb-micro has none of it, and agb-micro/local there is a clear error', async () => {
    const bundle = async (code: string) => {
      const out = await build({ stdin: { contents: code, resolveDir: dir, loader: 'js' }, bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' })
      return out.outputFiles[0]!.text
    }
    const main = await bundle("import { createClient, exec } from 'agb-micro'\nconsole.log(createClient, exec)")
    expect(main).not.toMatch(/createAgbLocal|bubblewrap|node:child_process/)
    const local = await bundle("import { createAgbLocal } from 'agb-micro/local'\ncreateAgbLocal()")
    expect(local).toMatch(/agb-micro\/local is AGB Local: it runs sandboxes and processes, so it needs Node\.js/)
    expect(local).not.toMatch(/node:child_process/)
  })

  it('adds no dependency: the local entry is self-contained (ws inlined) and the package still depends on ofetch and valibot only', () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules/agb-micro/package.json'), 'utf8'))
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['ofetch', 'valibot'])
    expect(pkg.exports['./local']).toEqual({ types: './dist/local/index.d.mts', node: './dist/local/index.mjs', default: './dist/local/unsupported.mjs' })
    const localDir = join(dir, 'node_modules/agb-micro/dist/local')
    for (const file of readdirSync(localDir).filter((f) => f.endsWith('.mjs'))) {
      const code = readFileSync(join(localDir, file), 'utf8')
      const bare = [...code.matchAll(/(?:from\s*|import\s*\(\s*|require\(\s*)["']([^"']+)["']/g)].map((m) => m[1]!)
        .filter((s) => !s.startsWith('node:') && !s.startsWith('./') && !builtinModules.includes(s))
        // ws's optional native speed-ups, required inside try/catch: absent is fine.
        .filter((s) => s !== 'bufferutil' && s !== 'utf-8-validate')
      expect(bare, file).toEqual([])
    }
  })
})
