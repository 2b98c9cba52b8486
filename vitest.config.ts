import { defineConfig } from 'vitest/config';

// Two cores: tests that train or decode video are CPU-bound, so run at most two files at once.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
