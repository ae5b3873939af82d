import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The tests share the devnet's funded accounts: one file at a time keeps their nonces apart.
    fileParallelism: false,
    testTimeout: 30_000,
  },
})
