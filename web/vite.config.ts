// The dashboard: index.html and its scripts, built into dist/ for `tradepulse serve` (or any
// static server) to serve at `/`. Relative asset URLs so it works under any base path.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
  },
});
