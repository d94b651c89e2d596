import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start real nginx, gpg and git; two workers keep a 2-core machine responsive.
    maxWorkers: 2,
  },
});
