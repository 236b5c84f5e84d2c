// Candlesticks with the run's fills as markers, the strategy's own indicator series (drawn
// exactly as given: over the price or in panes of their own) and volume.

import { CandlestickSeries, HistogramSeries, LineSeries, createChart, createSeriesMarkers, type SeriesMarker, type Time } from 'lightweight-charts';

import { empty } from './equity';
import { decimalsOf, formatCompact, formatNumber, formatPercent } from './format';
import { COLORS, el, frame, navigate, setLegend, timeChartOptions, timeItem, type Context, type Disposable, type LegendItem } from './frame';
import type { CandlesPanel } from './payload';
import { candles as toCandles, floorIndex, linePoints, lowerBound } from './series';
import { precisionOf, TimeShift, unionTimes } from './time';

/** More markers than this in view are not drawn (the hint says how many there are). */
export const MAX_VISIBLE_MARKERS = 800;

interface MarkerGroup {
  side: 'buy' | 'sell';
  role: 'entry' | 'exit';
  count: number;
  quantity: number;
  price: number;
}

export function renderCandles(host: HTMLElement, panel: CandlesPanel, ctx: Context): Disposable {
  const bars = toCandles(panel.time, panel.open, panel.high, panel.low, panel.close);
  if (bars.length === 0) {
    host.append(empty(ctx.document, 'No bars: nothing to chart.'));
    return { dispose() {} };
  }
  const f = frame(ctx, panel.title, true);
  host.append(f.root);
  const shift = new TimeShift(ctx.timeZone);
  const barTimes = bars.map((b) => b.time);
  shift.shiftAll(unionTimes(barTimes, ...panel.indicators.map((i) => i.time)));
  const precision = precisionOf(panel.time);
  const chart = createChart(f.chart, timeChartOptions(shift, precision));
  const decimals = priceDecimals(panel.close);
  const priceFormat = { type: 'custom' as const, formatter: (v: number) => formatNumber(v, decimals), minMove: 10 ** -decimals };

  const price = chart.addSeries(CandlestickSeries, {
    upColor: COLORS.green,
    downColor: COLORS.red,
    borderVisible: false,
    wickUpColor: COLORS.green,
    wickDownColor: COLORS.red,
    priceFormat,
  });
  price.setData(bars.map((b) => ({ ...b, time: shift.toChart(b.time) as Time })));

  // Indicators, as the strategy computed them: overlays on the price scale, others in own panes.
  let nextPane = 1;
  const lines = panel.indicators.map((ind, k) => {
    const color = COLORS.palette[k % COLORS.palette.length] as string;
    const pane = ind.pane === 'price' ? 0 : nextPane++;
    const points = linePoints(ind.time, ind.value);
    const series = chart.addSeries(
      LineSeries,
      {
        color,
        lineWidth: 2,
        priceLineVisible: false,
        lastValueVisible: ind.pane === 'own',
        priceFormat: ind.pane === 'price' ? priceFormat : { type: 'price', precision: Math.min(6, Math.max(2, decimalsOf(points.slice(0, 500).map((p) => p.value)))), minMove: 1e-6 },
        title: ind.pane === 'own' ? ind.name : '',
      },
      pane,
    );
    series.setData(points.map((p) => ({ time: shift.toChart(p.time) as Time, value: p.value })));
    return { name: ind.name, color, times: points.map((p) => p.time), values: points.map((p) => p.value) };
  });

  const hasVolume = panel.volume.some((v) => v > 0);
  if (hasVolume) {
    const volume = chart.addSeries(
      HistogramSeries,
      { priceFormat: { type: 'volume' }, priceLineVisible: false, lastValueVisible: false, title: 'volume' },
      nextPane,
    );
    const merged = mergedVolume(panel.time, panel.volume, barTimes);
    volume.setData(
      bars.map((b, i) => ({
        time: shift.toChart(b.time) as Time,
        value: merged[i] as number,
        color: b.close >= b.open ? 'rgba(30, 158, 106, 0.45)' : 'rgba(214, 59, 59, 0.45)',
      })),
    );
  }
  const panes = chart.panes();
  panes[0]?.setStretchFactor(Math.max(0.5, 1 - 0.2 * (panes.length - 1)));
  for (const p of panes.slice(1)) p.setStretchFactor(0.2);

  // Fills: one marker per candle, side and role (the payload already merged them).
  const m = panel.markers;
  const groups = new Map<number, MarkerGroup[]>();
  const markers: SeriesMarker<Time>[] = [];
  for (let i = 0; i < m.time.length; i++) {
    const side = m.side[i] as 'buy' | 'sell';
    const role = m.role[i] as 'entry' | 'exit';
    const count = m.count[i] as number;
    // Place it on the candle holding its time (the payload gives the candle's own time).
    const at = floorIndex(barTimes, m.time[i] as number);
    if (at < 0) continue;
    const t = barTimes[at] as number;
    const list = groups.get(t) ?? [];
    list.push({ side, role, count, quantity: m.quantity[i] as number, price: m.price[i] as number });
    groups.set(t, list);
    markers.push({
      time: shift.toChart(t) as Time,
      position: side === 'buy' ? 'belowBar' : 'aboveBar',
      shape: side === 'buy' ? 'arrowUp' : 'arrowDown',
      color: role === 'entry' ? COLORS.blue : COLORS.orange,
      text: count > 1 ? `${count}` : '',
      size: 1,
    });
  }
  markers.sort((a, b) => (a.time as number) - (b.time as number));
  const markerApi = createSeriesMarkers(price, []);
  // Thousands of markers over a whole long run hide the candles: draw them once the view holds
  // few enough to read, and say how many there are until then.
  const candleIndex = new Map<number, number>();
  barTimes.forEach((t, i) => candleIndex.set(shift.toChart(t), i));
  const markerCandle = markers.map((mk) => candleIndex.get(mk.time as number) ?? 0);
  const hint = el(ctx.document, 'p', { class: 'tp-hint', 'aria-live': 'polite' });
  f.root.append(hint);
  let shown = -1;
  const onRange = (range: { from: number; to: number } | null) => {
    if (!range) return;
    const lo = lowerBound(markerCandle, Math.floor(range.from));
    const hi = lowerBound(markerCandle, Math.ceil(range.to) + 1);
    const inView = hi - lo;
    const visible = inView <= MAX_VISIBLE_MARKERS;
    const want = visible ? markers.length : 0;
    if (want !== shown) {
      markerApi.setMarkers(visible ? markers : []);
      shown = want;
    }
    hint.textContent = visible || inView === 0 ? '' : `${inView.toLocaleString('en-US')} fill markers in view: zoom in to see them.`;
  };
  chart.timeScale().subscribeVisibleLogicalRangeChange(onRange);
  chart.timeScale().fitContent();
  onRange(chart.timeScale().getVisibleLogicalRange());

  const fmt = (v: number) => formatNumber(v, decimals);
  const show = (i: number | null) => {
    const k = i ?? bars.length - 1;
    const b = bars[k];
    if (!b) return;
    const items: LegendItem[] = [
      timeItem(b.time, ctx.timeZone, precision),
      { label: 'O', value: fmt(b.open) },
      { label: 'H', value: fmt(b.high) },
      { label: 'L', value: fmt(b.low) },
      { label: 'C', value: fmt(b.close), color: b.close >= b.open ? COLORS.green : COLORS.red },
      { label: 'chg', value: formatPercent(b.close / b.open - 1) },
    ];
    for (const line of lines) {
      const j = floorIndex(line.times, b.time);
      const v = j >= 0 && line.times[j] === b.time ? line.values[j] : undefined;
      items.push({ label: line.name, value: v === undefined ? '–' : fmt(v), color: line.color });
    }
    if (hasVolume) {
      const j = floorIndex(panel.time, b.time);
      if (j >= 0) items.push({ label: 'vol', value: formatCompact(panel.volume[j] as number) });
    }
    for (const g of groups.get(b.time) ?? []) {
      const arrow = g.side === 'buy' ? '▲' : '▼';
      const fills = g.count > 1 ? ` (${g.count} fills)` : '';
      items.push({
        label: `${arrow} ${g.side} ${g.role}`,
        value: `${formatNumber(g.quantity, decimalsOf([g.quantity], 8))} @ ${fmt(g.price)}${fills}`,
        color: g.role === 'entry' ? COLORS.blue : COLORS.orange,
      });
    }
    setLegend(ctx.document, f.legend, items);
  };
  show(null);
  const nav = navigate(ctx, f, {
    chart,
    series: price,
    times: barTimes.map((t) => shift.toChart(t)) as never[],
    valueAt: (i) => (bars[i] as { close: number }).close,
    show,
  });
  return {
    dispose() {
      nav.dispose();
      chart.timeScale().unsubscribeVisibleLogicalRangeChange(onRange);
      markerApi.detach();
      chart.remove();
    },
  };
}

/**
 * Decimals to show prices with: those the prices are written with, but at most six significant
 * digits (data converted from floats carries noise such as 2498.939941), and at least two.
 */
export function priceDecimals(close: readonly number[]): number {
  const sample = close.slice(0, 2000);
  let top = 0;
  for (const v of sample) top = Math.max(top, Math.abs(v));
  if (!(top > 0)) return 2;
  const integerDigits = Math.floor(Math.log10(top)) + 1;
  return Math.max(2, Math.min(decimalsOf(sample), 6 - integerDigits));
}

/** Volume of each merged candle: the sum over the payload rows that fell into it. */
function mergedVolume(time: readonly number[], volume: readonly number[], barTimes: readonly number[]): number[] {
  const out = new Array<number>(barTimes.length).fill(0);
  let k = 0;
  for (let i = 0; i < time.length; i++) {
    while (k + 1 < barTimes.length && (barTimes[k + 1] as number) <= (time[i] as number)) k++;
    out[k] = (out[k] as number) + (volume[i] as number);
  }
  return out;
}
