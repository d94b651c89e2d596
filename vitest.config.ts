import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests run the built dist/: rebuild first when a source is newer than it.
    globalSetup: ['test/setup/build.ts'],
    // e2e tests start several real processes (node, git, gpg, nginx) each; on a loaded 2-core
    // machine one test can take a minute. A hang still fails, just later.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Tests start real nginx, gpg and git; two workers keep a 2-core machine responsive.
    maxWorkers: 2,
  },
});
