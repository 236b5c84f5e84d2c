// Equity over its drawdown, in two panes of one chart so they share the time axis and crosshair.

import { BaselineSeries, LineSeries, LineStyle, createChart } from 'lightweight-charts';

import { formatNumber, formatPercent, formatSigned } from './format';
import { COLORS, frame, navigate, setLegend, timeChartOptions, timeItem, type Context, type Disposable } from './frame';
import type { EquityPanel } from './payload';
import { precisionOf, TimeShift } from './time';

export function renderEquity(host: HTMLElement, panel: EquityPanel, ctx: Context): Disposable {
  const n = panel.time.length;
  if (n === 0) {
    host.append(empty(ctx.document, 'No bars: nothing to chart.'));
    return { dispose() {} };
  }
  const f = frame(ctx, panel.title, true);
  host.append(f.root);
  const shift = new TimeShift(ctx.timeZone);
  const times = shift.shiftAll(panel.time);
  const precision = precisionOf(panel.time);
  const chart = createChart(f.chart, timeChartOptions(shift, precision));
  const money = { type: 'custom' as const, formatter: (v: number) => formatNumber(v, 2), minMove: 0.01 };
  const equity = chart.addSeries(LineSeries, {
    color: COLORS.blue,
    lineWidth: 2,
    priceFormat: money,
    priceLineVisible: false,
    title: 'equity',
  });
  equity.setData(times.map((t, i) => ({ time: t as never, value: panel.equity[i] as number })));
  equity.createPriceLine({
    price: panel.initial,
    color: COLORS.muted,
    lineWidth: 1,
    lineStyle: LineStyle.Dashed,
    axisLabelVisible: true,
    title: 'initial',
  });
  const drawdown = chart.addSeries(
    BaselineSeries,
    {
      baseValue: { type: 'price', price: 0 },
      topLineColor: COLORS.red,
      topFillColor1: 'rgba(214, 59, 59, 0)',
      topFillColor2: 'rgba(214, 59, 59, 0)',
      bottomLineColor: COLORS.red,
      bottomFillColor1: 'rgba(214, 59, 59, 0.15)',
      bottomFillColor2: 'rgba(214, 59, 59, 0.45)',
      lineWidth: 1,
      priceLineVisible: false,
      priceFormat: { type: 'custom', formatter: (v: number) => formatPercent(v, 1), minMove: 0.0001 },
      title: 'drawdown',
    },
    1,
  );
  drawdown.setData(times.map((t, i) => ({ time: t as never, value: panel.drawdown[i] as number })));
  chart.panes()[0]?.setStretchFactor(0.7);
  chart.panes()[1]?.setStretchFactor(0.3);
  chart.timeScale().fitContent();

  let worst = 0;
  for (const d of panel.drawdown) worst = Math.min(worst, d);
  const show = (i: number | null) => {
    const k = i ?? n - 1;
    const e = panel.equity[k] as number;
    setLegend(ctx.document, f.legend, [
      timeItem(panel.time[k] as number, ctx.timeZone, precision),
      { label: 'equity', value: `${formatNumber(e, 2)} ${panel.currency ?? ''}`.trim(), color: COLORS.blue },
      { label: 'vs initial', value: formatSigned(((e - panel.initial) / panel.initial) * 100, 2) + '%' },
      { label: 'drawdown', value: formatPercent(panel.drawdown[k] as number), color: COLORS.red },
      { label: 'max drawdown', value: formatPercent(worst) },
    ]);
  };
  show(null);
  const nav = navigate(ctx, f, {
    chart,
    series: equity,
    times: times as never[],
    valueAt: (i) => panel.equity[i] as number,
    show,
  });
  return {
    dispose() {
      nav.dispose();
      chart.remove();
    },
  };
}

export function empty(doc: Document, text: string): HTMLElement {
  const p = doc.createElement('p');
  p.className = 'tp-empty';
  p.textContent = text;
  return p;
}
