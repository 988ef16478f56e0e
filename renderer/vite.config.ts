// The renderer's build (vite + Svelte 5) and its component tests (vitest project "renderer":
// jsdom, testing-library). `base: './'` so the same build loads from browser mode's server and
// from Electron's lathe:// protocol.
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [svelte(), ...(process.env.VITEST ? [svelteTesting()] : [])],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1200, sourcemap: false },
  test: {
    name: 'renderer',
    environment: 'jsdom',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
  },
});
