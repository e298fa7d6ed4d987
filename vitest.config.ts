import { defineConfig } from 'vitest/config'

// One run over every package: workspace packages resolve each other's src/ through the
// `source` export condition, so tests never need a build first.
//
// Two projects: everything on the default store (SQLite), and the suites that are written
// against the Store port only (the HTTP API, the billing scheduler, the billing model check)
// again on PostgreSQL, each test on a fresh database (collector/src/testing.ts).
export default defineConfig({
  ssr: { resolve: { conditions: ['source', 'module', 'node', 'development|production'] } },
  resolve: { conditions: ['source'] },
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: ['packages/*/src/**/*.test.ts', 'collector/src/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/src/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['collector/src/routes/*.test.ts', 'collector/src/billing-scheduler.test.ts', 'collector/src/webhook-dispatcher.test.ts', 'test/chaos/billing-model.test.ts'],
          env: { MK_TEST_STORE: 'postgres' },
        },
      },
    ],
  },
})
