// `lightweight-charts-real` is the library itself (an alias in vite.config.ts), under the name
// src/app/chart-tap.ts imports it by while `lightweight-charts` resolves to that tap.
declare module 'lightweight-charts-real' {
  export * from 'lightweight-charts';
}
