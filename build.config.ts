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
    output: {
      preserveModules: true,
      preserveModulesRoot: 'src',
      // npm never packs a folder named node_modules: bundled dependencies go to dist/vendor.
      entryFileNames: (chunk: { name: string }) => `${chunk.name.replace(/^(.*\/)?(node_modules|scripts\/vendor)\//, 'vendor/')}.mjs`,
    },
  },
  externals: ['ofetch', 'valibot'],
})
