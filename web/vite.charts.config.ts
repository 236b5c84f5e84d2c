// The chart module alone, as one self-contained script (library mode, IIFE, global
// `TradePulseCharts`): `tradepulse backtest` inlines this file into report.html. The build must be
// byte-for-byte reproducible from package-lock.json, because the built file is committed under
// crates/backtest/assets/ and CI rebuilds it to compare (scripts/bundle.mjs).
import { readFileSync } from 'node:fs';
import { defineConfig } from 'vite';

const version = (name: string): string =>
  (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;

// The minifier drops the libraries' licence comments; the notices they ask for go here instead.
const banner = `/*! TradePulse chart module (web/src/charts), built by \`npm run build:charts\`; Apache-2.0.
 * Includes TradingView Lightweight Charts(TM) v${version('lightweight-charts')}, Copyright (c) TradingView, Inc.,
 * Apache License 2.0, https://www.tradingview.com/ ; and fancy-canvas v${version('fancy-canvas')}, MIT licence. */`;

export default defineConfig({
  // No public/ copy and no hashed names: exactly one output file.
  publicDir: false,
  build: {
    outDir: 'dist/charts',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    rolldownOptions: { output: { postBanner: banner } },
    lib: {
      entry: 'src/charts/index.ts',
      name: 'TradePulseCharts',
      formats: ['iife'],
      fileName: () => 'tradepulse-charts.js',
    },
  },
});
