// Emits one declaration file per module next to its .mjs (dist/x/y.d.mts), with import
// specifiers pointing at files that exist. (unbuild's bundled declarations put shared types in
// a chunk named like a .mjs file that does not exist, which Deno cannot resolve.)
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'

const out = '.tmp/types'
rmSync(out, { recursive: true, force: true })
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
for (const file of walk(out).filter((f) => f.endsWith('.d.ts'))) {
  const target = join('dist', relative(out, file)).replace(/\.d\.ts$/, '.d.mts')
  mkdirSync(dirname(target), { recursive: true })
  const text = readFileSync(file, 'utf8').replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+?)\.ts\2/g, '$1$2$3.mjs$2')
  writeFileSync(target, text)
}
// Drop unbuild's bundled declarations and their shared chunk.
rmSync('dist/shared', { recursive: true, force: true })
// Deno resolves `./x.mjs` in a declaration file to the JavaScript file, then follows its
// `@ts-self-types` pragma to the types. Type-only modules get an empty module for that.
for (const types of walk('dist').filter((f) => f.endsWith('.d.mts'))) {
  const js = types.replace(/\.d\.mts$/, '.mjs')
  const pragma = `/* @ts-self-types="./${types.split('/').pop()}" */\n`
  let code = ''
  try {
    code = readFileSync(js, 'utf8')
  } catch {
    code = 'export {}\n'
  }
  if (!code.startsWith('/* @ts-self-types')) writeFileSync(js, pragma + code)
}
