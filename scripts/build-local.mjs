// Bundles AGB Local (server/cli.ts) into dist/local/agb-local.mjs, the package's `agb-local`
// bin: one self-contained Node file (ws inlined), so the published package needs no extra
// dependency and the isomorphic entry stays untouched. Files the server reads at run time
// (kernel drivers) are copied next to it.
import { chmodSync, copyFileSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'

const out = 'dist/local'
mkdirSync(out, { recursive: true })
await build({
  entryPoints: ['server/cli.ts'],
  outfile: `${out}/agb-local.mjs`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // ws is CommonJS: give the ESM bundle a `require` for Node's built-ins.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __agbCreateRequire } from 'node:module'\nconst require = __agbCreateRequire(import.meta.url)" },
})
chmodSync(`${out}/agb-local.mjs`, 0o755)
const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
for (const file of walk('server').filter((f) => /\.(py|cjs|sh)$/.test(f))) copyFileSync(file, join(out, file.split('/').pop()))
