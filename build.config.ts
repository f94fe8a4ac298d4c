import { fileURLToPath } from 'node:url'
import { defineBuildConfig } from 'unbuild'

// One output file per source module (preserveModules) plus `sideEffects: false` in
// package.json: esbuild consumers can only drop unused operations and their valibot
// schemas when both hold.
export default defineBuildConfig({
  entries: ['src/index', 'src/proxy'],
  outDir: 'dist',
  // Declarations come from scripts/build-types.mjs: one .d.mts per module.
  declaration: false,
  clean: true,
  failOnWarn: false,
  rollup: {
    emitCJS: false,
    inlineDependencies: ['ofetch'],
    output: {
      preserveModules: true,
      preserveModulesRoot: 'src',
      // npm never packs a folder named node_modules: bundled dependencies go to dist/vendor.
      entryFileNames: (chunk: { name: string }) => `${chunk.name.replace(/^(.*\/)?(node_modules|scripts\/vendor)\//, 'vendor/')}.mjs`,
    },
  },
  // ofetch's web build is bundled in: under Node's `node` export condition the package
  // would load a fetch polyfill (node-fetch-native, ~35 KB gz and ~30 ms of import time)
  // that Node 18+ does not need. Every runtime then uses its global fetch.
  // Its two helper packages are replaced by small web-standard equivalents (scripts/vendor):
  // ufo and destr cost ~1.3 KB gz in every consumer bundle for what URLSearchParams and
  // JSON.parse already do.
  alias: {
    ofetch: fileURLToPath(new URL('scripts/ofetch-web.mjs', import.meta.url)),
    ufo: fileURLToPath(new URL('scripts/vendor/ufo.mjs', import.meta.url)),
    destr: fileURLToPath(new URL('scripts/vendor/destr.mjs', import.meta.url)),
  },
  externals: ['valibot'],
})
