import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Examples import 'anywire'; in tests that is the source tree, like every other import.
  resolve: {
    alias: [
      { find: /^anywire$/, replacement: new URL('./src/index.ts', import.meta.url).pathname },
      { find: /^anywire\/events$/, replacement: new URL('./src/events/index.ts', import.meta.url).pathname },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
