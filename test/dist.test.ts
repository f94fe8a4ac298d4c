import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { beforeAll, describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const dist = join(root, 'dist')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; sideEffects: boolean }

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))

/** Bundles a consumer entry that imports `names` from the built package, like a user's app would. */
async function bundle(names: string[], platform: 'browser' | 'node' = 'browser', conditions?: string[]) {
  const result = await build({
    stdin: { contents: `import { ${names.join(', ')} } from 'agb-micro'\nglobalThis.used = [${names.join(', ')}]`, resolveDir: root, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform,
    ...(conditions ? { conditions } : {}),
    write: false,
    logLevel: 'silent',
  })
  const code = result.outputFiles[0]!.text
  return { code, gzip: gzipSync(code, { level: 9 }).length }
}

beforeAll(() => {
  if (!existsSync(join(dist, 'index.mjs'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)')
})

describe('dist hygiene', () => {
  it('has no node: import, require, process or Buffer in any built file', () => {
    // dist/local is the AGB Local bin, a Node program by design; everything else is isomorphic.
    for (const file of walk(dist).filter((f) => f.endsWith('.mjs') && !f.includes('/local/'))) {
      const code = readFileSync(file, 'utf8')
      expect(code, file).not.toMatch(/from\s*['"]node:|import\(['"]node:|\brequire\(|\bprocess\.|\bBuffer\b/)
    }
  })

  it('has every exports target', () => {
    const targets = (entry: unknown): string[] => (typeof entry === 'string' ? [entry] : Object.values(entry as object).flatMap(targets))
    const all = targets(pkg.exports)
    expect(all.length).toBeGreaterThan(3)
    for (const target of all) expect(existsSync(join(root, target)), target).toBe(true)
  })

  it('declares sideEffects: false', () => {
    expect(pkg.sideEffects).toBe(false)
  })

  it('emits one file per source module, so bundlers can drop unused ones', () => {
    const files = walk(dist).map((f) => f.slice(dist.length + 1))
    expect(files).toEqual(expect.arrayContaining(['sessions/createSession.mjs', 'code/runCode.mjs', 'exec/exec.mjs', '_internal/parseCodeResult.mjs']))
  })
})

describe('tree-shaking', () => {
  it('a consumer of createClient + deleteSession gets no run_code parsing or shell code', async () => {
    const { code } = await bundle(['createClient', 'deleteSession'])
    expect(code).toContain('releaseSessionAsync')
    expect(code).not.toContain('run_code')
    expect(code).not.toContain('text/plain')
    expect(code).not.toContain('isMainResult')
    expect(code).not.toContain('exit_code')
  })

  it('a consumer of runCode gets the parser but not createSession', async () => {
    const { code } = await bundle(['createClient', 'runCode'])
    expect(code).toContain('text/plain')
    expect(code).not.toContain('createSession')
  })
})
