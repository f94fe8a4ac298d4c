import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  // Tests run src/ on the same transport the build ships (build.config.ts): ofetch's web
  // build with the web-standard ufo/destr replacements.
  resolve: {
    alias: {
      ofetch: here('scripts/ofetch-web.mjs'),
      ufo: here('scripts/vendor/ufo.mjs'),
      destr: here('scripts/vendor/destr.mjs'),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Sandboxed interpreters and runtimes are real processes: keep the 2-core machine calm.
    maxWorkers: 2,
    // Processed by vite so the aliases above reach ofetch's own imports.
    server: { deps: { inline: ['ofetch'] } },
  },
})
