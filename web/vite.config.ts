// The dashboard: index.html and its scripts, built into dist/ for `tradepulse serve` (or any
// static server) to serve at `/`. Relative asset URLs so it works under any base path.
// `lightweight-charts` resolves to src/app/chart-tap.ts here (the library, with each chart noted
// by its container so a page can follow its zoom); the chart bundle (vite.charts.config.ts) is
// built without it.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const path = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  base: './',
  resolve: {
    alias: [
      { find: /^lightweight-charts$/, replacement: path('./src/app/chart-tap.ts') },
      { find: /^lightweight-charts-real$/, replacement: path('./node_modules/lightweight-charts/dist/lightweight-charts.production.mjs') },
    ],
  },
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
