import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    setupFiles: ['./packages/node/src/polyfill.ts', './test/helpers/fetch-fresh-connection.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Multi-process tests start real daemons; two cores cannot run many at once.
    maxWorkers: 2,
    minWorkers: 1
  }
})
