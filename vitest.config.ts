import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Most test files spend their time waiting (timeouts under attack, sandboxes starting,
    // child processes), not computing: four workers on the 2-core machine take the suite from
    // about 260 s to about 180 s, with every timing bound still met.
    maxWorkers: 4,
  },
})
