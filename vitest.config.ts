import { defineConfig } from 'vitest/config';

const json = process.env.LATHE_VITEST_JSON;

export default defineConfig({
  test: {
    // Integration tests spawn ffmpeg and the CLI; keep them from starving each other on 2 cores.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The engine's tests (and the browser-mode e2e tests) in Node; the renderer's component tests
    // in jsdom with its own Svelte build (renderer/vite.config.ts).
    projects: [{ extends: true, test: { name: 'engine', include: ['test/**/*.test.ts'], environment: 'node' } }, 'renderer/vite.config.ts'],
    // CI reads the JSON report for its "N passed, N failed" line.
    reporters: json ? ['default', ['json', { outputFile: json }]] : ['default'],
  },
});
