import { defineConfig } from 'vitest/config';

const json = process.env.LATHE_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests spawn ffmpeg and the CLI; keep them from starving each other on 2 cores.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // CI reads the JSON report for its "N passed, N failed" line.
    reporters: json ? ['default', ['json', { outputFile: json }]] : ['default'],
  },
});
