// Bundles AGB Local into dist/local: agb-local.mjs (server/cli.ts), the package's `agb-local`
// bin, and index.mjs (server/index.ts), the `agb-micro/local` entry (createAgbLocal, serve) with
// its declarations index.d.mts. Each is one self-contained Node file (ws inlined; no shared
// chunk, so the bin stays a single file), so the published package needs no extra dependency and the isomorphic entry stays
// untouched. unsupported.mjs is what other runtimes get for `agb-micro/local`: a clear error.
// Files the server reads at run time (kernel drivers) are copied next to them.
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { rollup } from 'rollup'
import { dts } from 'rollup-plugin-dts' // comes with unbuild

const out = 'dist/local'
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
await build({
  entryPoints: { 'agb-local': 'server/cli.ts', index: 'server/index.ts' },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // ws is CommonJS: give the ESM bundle a `require` for Node's built-ins.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __agbCreateRequire } from 'node:module'\nconst require = __agbCreateRequire(import.meta.url)" },
})
chmodSync(`${out}/agb-local.mjs`, 0o755)
// Exported functions that throw (not a top-level throw: with "sideEffects": false bundlers drop
// a module whose exports go unused, and would hand out undefined instead of the error).
const UNSUPPORTED = 'agb-micro/local is AGB Local: it runs sandboxes and processes, so it needs Node.js (>= 20). Import it from Node (a test suite, a script), not from a browser, Worker or edge bundle; those use agb-micro against an AGB Local started with the agb-local command.'
writeFileSync(`${out}/unsupported.mjs`, `const unsupported = () => { throw new Error(${JSON.stringify(UNSUPPORTED)}) }\nexport const createAgbLocal = unsupported\nexport const serve = unsupported\n`)
const types = await rollup({ input: 'server/index.ts', external: [/^node:/], plugins: [dts({ tsconfig: 'tsconfig.node.json' })] })
await types.write({ file: `${out}/index.d.mts`, format: 'es' })
await types.close()
const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
for (const file of walk('server').filter((f) => /\.(py|cjs|sh|java|R)$/.test(f))) copyFileSync(file, join(out, file.split('/').pop()))
// The console's page (server/console/consoleAssets.ts reads it from next to the bundle).
for (const name of ['console.html', 'console.css', 'console.js']) copyFileSync(join('server/console', name), join(out, name))
