// This example's own vitest configuration (the repository's main run covers test/ only).
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['*.test.ts'],
    // Real sandboxes on a busy machine: generous bounds.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})
