// The dashboard's build resolves `lightweight-charts` to this module (vite.config.ts `alias`):
// everything of the library as it is, with `createChart` also noting each chart by its
// container, so a page can follow the zoom and pan of a chart the chart module drew (the run
// page re-requests the visible range) without changing the chart module, whose bundle is
// committed for report.html and built without this alias.

import { createChart as createChartOf } from 'lightweight-charts-real';
import type { ChartOptions, DeepPartial, IChartApi } from 'lightweight-charts';

export * from 'lightweight-charts-real';

const charts = new WeakMap<HTMLElement, IChartApi>();

export function createChart(container: string | HTMLElement, options?: DeepPartial<ChartOptions>): IChartApi {
  const chart = createChartOf(container, options);
  if (typeof container !== 'string') charts.set(container, chart);
  return chart;
}

/** The chart drawn into `container` (the chart module's `.tp-chart` element), if any. */
export function chartOf(container: Element | null): IChartApi | undefined {
  return container instanceof HTMLElement ? charts.get(container) : undefined;
}
