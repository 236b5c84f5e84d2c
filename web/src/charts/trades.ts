// Round-trip P&L: each closed trade's net P&L at its exit time (with the running total in a
// second pane), and the distribution of those P&Ls on a numeric axis.

import { HistogramSeries, LineSeries, createChart, createOptionsChart, type Time } from 'lightweight-charts';

import { empty } from './equity';
import { formatNumber, formatPercent, formatSigned } from './format';
import { baseOptions, COLORS, el, frame, navigate, setLegend, timeChartOptions, timeItem, type Context, type Disposable } from './frame';
import type { TradePnlPanel } from './payload';
import { bins, summedPoints } from './series';
import { formatTime, precisionOf, TimeShift } from './time';

export function renderTrades(host: HTMLElement, panel: TradePnlPanel, ctx: Context): Disposable {
  const doc = ctx.document;
  const n = panel.pnl.length;
  if (n === 0) {
    host.append(empty(doc, 'No closed round trips.'));
    return { dispose() {} };
  }
  host.append(stats(doc, panel));
  const byTime = timeChart(host, panel, ctx);
  const byValue = distribution(host, panel, ctx);
  return {
    dispose() {
      byTime.dispose();
      byValue.dispose();
    },
  };
}

function stats(doc: Document, panel: TradePnlPanel): HTMLElement {
  const wins = panel.pnl.filter((p) => p > 0);
  const losses = panel.pnl.filter((p) => p < 0);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const total = panel.pnl.reduce((a, b) => a + b, 0);
  const rows: Array<[string, string]> = [
    ['round trips', String(panel.pnl.length)],
    ['winners', `${wins.length} (${formatPercent(wins.length / panel.pnl.length, 1)})`],
    ['net P&L', formatSigned(total, 2)],
    ['average win', wins.length ? formatSigned(mean(wins), 2) : '–'],
    ['average loss', losses.length ? formatSigned(mean(losses), 2) : '–'],
    ['best', formatSigned(Math.max(...panel.pnl), 2)],
    ['worst', formatSigned(Math.min(...panel.pnl), 2)],
  ];
  const dl = el(doc, 'dl', { class: 'tp-stats' });
  for (const [k, v] of rows) {
    const div = el(doc, 'div');
    div.append(el(doc, 'dt', {}, k), el(doc, 'dd', {}, v));
    dl.append(div);
  }
  return dl;
}

function timeChart(host: HTMLElement, panel: TradePnlPanel, ctx: Context): Disposable {
  const f = frame(ctx, `${panel.title} by exit time`);
  host.append(f.root);
  const shift = new TimeShift(ctx.timeZone);
  const { points, counts } = summedPoints(panel.exit_time, panel.pnl);
  const times = shift.shiftAll(points.map((p) => p.time));
  const precision = precisionOf(panel.exit_time);
  const chart = createChart(f.chart, timeChartOptions(shift, precision));
  const money = { type: 'custom' as const, formatter: (v: number) => formatNumber(v, 2), minMove: 0.01 };
  const bars = chart.addSeries(HistogramSeries, { priceFormat: money, priceLineVisible: false, lastValueVisible: false, title: 'net P&L' });
  bars.setData(points.map((p, i) => ({ time: times[i] as Time, value: p.value, color: p.value < 0 ? COLORS.red : COLORS.green })));
  let running = 0;
  const cumulative = points.map((p) => (running += p.value));
  const total = chart.addSeries(LineSeries, { color: COLORS.blue, lineWidth: 2, priceFormat: money, priceLineVisible: false, title: 'cumulative' }, 1);
  total.setData(cumulative.map((v, i) => ({ time: times[i] as Time, value: v })));
  chart.panes()[0]?.setStretchFactor(0.6);
  chart.panes()[1]?.setStretchFactor(0.4);
  chart.timeScale().fitContent();

  // The first trade of each point, so a legend can describe it.
  const first: number[] = [];
  let j = 0;
  for (const c of counts) {
    first.push(j);
    j += c;
  }
  const show = (i: number | null) => {
    const k = i ?? points.length - 1;
    const t = first[k] as number;
    const c = counts[k] as number;
    const p = points[k] as { time: number; value: number };
    const items = [timeItem(p.time, ctx.timeZone, precision)];
    if (c === 1) {
      items.push(
        { label: 'trade', value: `#${t + 1} ${panel.direction[t]}`, title: '' },
        { label: 'entry', value: formatTime(panel.entry_time[t] as number, ctx.timeZone, precision === 'second' ? 'second' : 'minute'), title: `UTC ${formatTime(panel.entry_time[t] as number, 'UTC', 'minute')}` },
        { label: 'net P&L', value: formatSigned(p.value, 2), title: '' },
        { label: 'return', value: formatPercent(panel.return[t] as number), title: '' },
      );
    } else {
      items.push({ label: `${c} trades`, value: formatSigned(p.value, 2), title: '' });
    }
    items.push({ label: 'cumulative', value: formatSigned(cumulative[k] as number, 2), title: '' });
    setLegend(ctx.document, f.legend, items);
  };
  show(null);
  const nav = navigate(ctx, f, { chart, series: bars, times: times as never[], valueAt: (i) => (points[i] as { value: number }).value, show });
  return {
    dispose() {
      nav.dispose();
      chart.remove();
    },
  };
}

function distribution(host: HTMLElement, panel: TradePnlPanel, ctx: Context): Disposable {
  const f = frame(ctx, `${panel.title} distribution`);
  f.root.classList.add('tp-short');
  host.append(f.root);
  const { edges, counts } = bins(panel.pnl);
  const step = (edges[1] as number) - (edges[0] as number);
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)) + 1);
  const chart = createOptionsChart(f.chart, {
    ...baseOptions(),
    localization: { locale: 'en-US', priceFormatter: (v: number) => formatNumber(v, 0) },
    timeScale: { borderColor: COLORS.grid },
  });
  const centres = counts.map((_, i) => ((edges[i] as number) + (edges[i + 1] as number)) / 2);
  const series = chart.addSeries(HistogramSeries, {
    priceFormat: { type: 'price', precision: 0, minMove: 1 },
    priceLineVisible: false,
    lastValueVisible: false,
    title: 'trades',
  });
  series.setData(centres.map((x, i) => ({ time: x, value: counts[i] as number, color: x < 0 ? COLORS.red : COLORS.green })));
  chart.timeScale().fitContent();
  const show = (i: number | null) => {
    const items =
      i === null
        ? [{ label: 'bins of', value: formatNumber(step, decimals) }, { label: 'trades', value: String(panel.pnl.length) }]
        : [
            { label: 'net P&L', value: `${formatNumber(edges[i] as number, decimals)} to ${formatNumber(edges[i + 1] as number, decimals)}` },
            { label: 'trades', value: String(counts[i]) },
          ];
    setLegend(ctx.document, f.legend, items);
  };
  show(null);
  const nav = navigate(ctx, f, { chart, series, times: centres, valueAt: (i) => counts[i] as number, show });
  return {
    dispose() {
      nav.dispose();
      chart.remove();
    },
  };
}
