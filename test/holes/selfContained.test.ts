// A plain clone must be enough: no test, script, benchmark, example or server file may read a
// file outside the repository (the API fixtures once came from a directory beside the clone,
// so `npm test` failed anywhere else). Checks every relative module specifier and every path
// built from `import.meta.dirname` / `import.meta.url` with literal segments.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')
const DIRS = ['test', 'scripts', 'bench', 'examples', 'server', 'src', '.ci']
const SOURCE = /\.(ts|mts|cts|mjs|cjs|js|sh)$/

function files(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.tmp')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...files(path))
    else if (SOURCE.test(name) || dir.endsWith(`${sep}.ci`)) out.push(path)
  }
  return out
}

/** Paths a source file reads or imports, resolved: relative specifiers and import.meta-based paths. */
function referencedPaths(file: string, text: string): Array<{ literal: string; path: string }> {
  const here = dirname(file)
  const found: Array<{ literal: string; path: string }> = []
  const add = (literal: string, path: string) => found.push({ literal, path })
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.\.?\/[^'"]+)['"]/g)) add(m[1]!, resolve(here, m[1]!))
  for (const m of text.matchAll(/new URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g)) add(m[1]!, resolve(here, m[1]!))
  for (const m of text.matchAll(/(?:join|resolve)\(\s*import\.meta\.dirname\s*,\s*((?:['"][^'"]*['"]\s*,?\s*)+)\)/g)) {
    const parts = [...m[1]!.matchAll(/['"]([^'"]*)['"]/g)].map((p) => p[1]!)
    add(parts.join(', '), resolve(here, ...parts))
  }
  return found
}

describe('the repository stands on its own', () => {
  it('no source file reads or imports anything outside the repository', () => {
    const outside: string[] = []
    for (const dir of DIRS) {
      for (const file of files(join(ROOT, dir))) {
        for (const { literal, path } of referencedPaths(file, readFileSync(file, 'utf8'))) {
          const rel = relative(ROOT, path)
          if (rel.startsWith('..')) outside.push(`${relative(ROOT, file)}: ${literal}`)
        }
      }
    }
    expect(outside).toEqual([])
  })

  it('the check sees such a path (a fixture directory beside the clone)', () => {
    const file = join(ROOT, 'test/helpers/replay.ts')
    const beside = ['..', '..', '..', 'shared', 'agb-api', 'fixtures'].join('/')
    const paths = referencedPaths(file, `export const FIXTURES_DIR = join(import.meta.dirname, '${beside}')`)
    expect(paths.map((p) => relative(ROOT, p.path))).toEqual([join('..', 'shared/agb-api/fixtures')])
  })
})
