import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { publint } from 'publint'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { createClient, createSession, deleteSession, runCode } from '../src/index.ts'

const root = join(import.meta.dirname, '..')
const bin = (name: string) => join(root, 'node_modules/.bin', name)

describe('package quality', () => {
  it('publint finds nothing to complain about', async () => {
    const { messages } = await publint({ pkgDir: root, level: 'suggestion', strict: true })
    expect(messages).toEqual([])
  })

  it('arethetypeswrong: types resolve for node16 (ESM) and bundlers', () => {
    // ESM-only by design: CommonJS `require` and node10 resolution are out of scope.
    const out = execFileSync(bin('attw'), ['--pack', '.', '--profile', 'esm-only', '--format', 'json'], { cwd: root, encoding: 'utf8' }).trim()
    const report = JSON.parse(out.slice(out.indexOf('{'))) as { analysis: { problems: { kind: string; resolutionKind?: string }[] } }
    const problems = report.analysis.problems.filter((p) => p.resolutionKind !== 'node10' && p.resolutionKind !== 'node16-cjs')
    expect(problems).toEqual([])
  }, 60_000)

  it('npm pack ships only what users need', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path)
    const unexpected = files.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(f))
    expect(unexpected).toEqual([])
    expect(files).toEqual(expect.arrayContaining(['dist/index.mjs', 'dist/index.d.mts', 'dist/proxy.mjs', 'dist/local/agb-local.mjs']))
  }, 60_000)

  it('types resolve under Deno too', () => {
    const dir = mkdtempSync(join(root, '.tmp-deno-'))
    try {
      writeFileSync(join(dir, 'check.ts'), "import { createClient, type Session } from 'agb-micro'\nimport { createProxyHandler } from 'agb-micro/proxy'\nconst s: Session | undefined = undefined\nexport const x = [createClient, createProxyHandler, s]\n")
      execFileSync(bin('deno'), ['check', '--node-modules-dir=manual', '--no-lock', '--cached-only', '--no-remote', join(dir, 'check.ts')], {
        cwd: root,
        env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', DENO_DIR: join(dir, 'cache') },
        stdio: 'pipe',
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)

  it('every export has TSDoc', () => {
    const program = ts.createProgram([join(root, 'src/index.ts'), join(root, 'src/proxy.ts')], { strict: true, types: [], allowImportingTsExtensions: true, noEmit: true, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, target: ts.ScriptTarget.ES2022 })
    const checker = program.getTypeChecker()
    const undocumented: string[] = []
    for (const entry of ['src/index.ts', 'src/proxy.ts']) {
      const file = program.getSourceFile(join(root, entry))!
      for (const symbol of checker.getExportsOfModule(checker.getSymbolAtLocation(file)!)) {
        const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
        if (!ts.displayPartsToString(target.getDocumentationComment(checker)).trim()) undocumented.push(symbol.getName())
      }
    }
    expect(undocumented).toEqual([])
  })
})

describe('agb-local bin', () => {
  it('serves AGB Local with one command and shuts down cleanly', async () => {
    const child = spawn(process.execPath, [join(root, 'dist/local/agb-local.mjs'), '--port', '0', '--api-key', 'akm-bin-test'], { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] })
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d
        const m = /^AGB Local listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out)
        if (m) resolve(m[1]!)
      })
      child.on('exit', (code) => reject(new Error(`agb-local exited early (${code}): ${out}`)))
      setTimeout(() => reject(new Error(`no banner: ${out}`)), 10_000)
    })
    const client = createClient({ apiKey: 'akm-bin-test', endpoint: url })
    const session = await createSession(client, { imageId: 'agb-code-space-1' })
    expect((await runCode(client, session, '40 + 2')).text).toBe('42')
    await deleteSession(client, session)
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve))
    child.kill('SIGTERM')
    expect(await exit).toBe(0)
  }, 30_000)

  it('is self-contained: the bundle imports nothing from node_modules', () => {
    const code = readFileSync(join(root, 'dist/local/agb-local.mjs'), 'utf8')
    const bare = [...code.matchAll(/(?:^|\n)import[^'"]*['"]([^'"]+)['"]/g)].map((m) => m[1]!).filter((s) => !s.startsWith('node:'))
    expect(bare).toEqual([])
  })
})
