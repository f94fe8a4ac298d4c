import { execFileSync } from 'node:child_process'
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
  // Any warning fails the build (unbuild's default, kept on purpose).
  failOnWarn: true,
  hooks: {
    // The declarations (one .d.mts per module), the module-sync single file and AGB Local
    // (dist/local) are made from the rollup output, here, so every path package.json names
    // exists when unbuild checks them right after this hook.
    'rollup:done': () => {
      for (const step of ['build-types', 'build-single', 'build-local']) execFileSync(process.execPath, [`scripts/${step}.mjs`], { stdio: 'inherit' })
    },
  },
  rollup: {
    emitCJS: false,
    output: {
      preserveModules: true,
      preserveModulesRoot: 'src',
      entryFileNames: '[name].mjs',
    },
  },
  externals: ['ofetch', 'valibot'],
})
