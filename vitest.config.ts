import {defineConfig} from 'vitest/config'

/**
 * Tests that run a devnet of four or more validator processes. On a 2-core machine they starve
 * whatever runs beside them (timing-sensitive networking tests included), so they run after
 * everything else, one file at a time.
 */
const MULTI_VALIDATOR = ['test/e2e/consensus.test.ts', 'test/e2e/modules-acceptance.test.ts', 'test/e2e/light-client.test.ts', 'test/e2e/module-sandbox.test.ts', 'test/e2e/operations.test.ts', 'test/e2e/fl-chain-validators.test.ts']

export default defineConfig({
  test: {
    // e2e tests spawn the real CLI and node processes; give them room on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {name: 'suite', include: ['test/**/*.test.ts'], exclude: ['**/node_modules/**', '**/dist/**', ...MULTI_VALIDATOR], sequence: {groupOrder: 0}},
      },
      {
        extends: true,
        test: {name: 'multi-validator', include: MULTI_VALIDATOR, fileParallelism: false, sequence: {groupOrder: 1}},
      },
    ],
  },
})
