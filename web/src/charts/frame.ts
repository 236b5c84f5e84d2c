// What every chart panel shares: a focusable chart area with keyboard control, a zoom toolbar,
// a live legend, and the chart options (colours, time zone, touch behaviour).
//
// Keys on a focused chart: ← / → move the crosshair one point, Shift+← / → pan, PageUp /
// PageDown jump a tenth of the view, Home / End go to the first / last point, + / − zoom around
// the crosshair, 0 shows everything, Escape hides the crosshair.

import {
  ColorType,
  CrosshairMode,
  TickMarkType,
  type DeepPartial,
  type IChartApiBase,
  type ISeriesApi,
  type SeriesType,
  type TimeChartOptions,
  type Time,
} from 'lightweight-charts';

import { formatTime, type Precision, type TimeShift } from './time';

export const COLORS = {
  ink: '#333333',
  muted: '#777777',
  grid: '#eeeeee',
  blue: '#1f5fbf',
  red: '#d63b3b',
  green: '#1e9e6a',
  orange: '#f08c00',
  palette: ['#7b3fb5', '#0f8b8d', '#c2185b', '#5d6d00', '#8d5524', '#3949ab'],
} as const;

export const FONT = "'DejaVu Sans', Helvetica, Arial, sans-serif";

/** Settings every panel gets from the report. */
export interface Context {
  timeZone: string;
  document: Document;
}

/** Something a panel must release when the report is torn down. */
export interface Disposable {
  dispose(): void;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The DOM of one chart: toolbar, legend, and the element the chart draws into. */
export interface Frame {
  root: HTMLElement;
  legend: HTMLElement;
  toolbar: HTMLElement;
  chart: HTMLElement;
}

export function frame(ctx: Context, label: string, tall = false): Frame {
  const doc = ctx.document;
  const root = el(doc, 'div', { class: 'tp-frame' });
  const head = el(doc, 'div', { class: 'tp-frame-head' });
  const legend = el(doc, 'div', { class: 'tp-legend', 'aria-live': 'polite' });
  const toolbar = el(doc, 'div', { class: 'tp-toolbar', role: 'toolbar', 'aria-label': `${label}: zoom` });
  head.append(legend, toolbar);
  const chart = el(doc, 'div', {
    class: tall ? 'tp-chart tp-tall' : 'tp-chart',
    tabindex: '0',
    role: 'application',
    'aria-roledescription': 'interactive chart',
    'aria-label': `${label}. Arrow keys move the crosshair, Shift with arrows pans, plus and minus zoom, 0 shows everything.`,
  });
  root.append(head, chart);
  return { root, legend, toolbar, chart };
}

/** One line of legend items: `label value` pairs, with an optional colour swatch. */
export interface LegendItem {
  label: string;
  value: string;
  color?: string;
  title?: string;
}

export function setLegend(doc: Document, legend: HTMLElement, items: LegendItem[]): void {
  const nodes = items.map((item) => {
    const span = el(doc, 'span', { class: 'tp-item' });
    if (item.title) span.title = item.title;
    if (item.color) {
      const swatch = el(doc, 'i', { class: 'tp-swatch', 'aria-hidden': 'true' });
      swatch.style.background = item.color;
      span.append(swatch);
    }
    span.append(el(doc, 'span', { class: 'tp-label' }, item.label), ' ', el(doc, 'b', {}, item.value));
    return span;
  });
  legend.replaceChildren(...nodes);
}

/** The legend's time item: local time, with the UTC time beside it and on hover. */
export function timeItem(utc: number, timeZone: string, precision: Precision): LegendItem {
  const local = formatTime(utc, timeZone, precision === 'day' ? 'minute' : precision);
  const inUtc = formatTime(utc, 'UTC', precision === 'day' ? 'minute' : precision);
  const zone = timeZone === 'UTC' ? 'UTC' : timeZone;
  return {
    label: zone,
    value: timeZone === 'UTC' ? local : `${local} · UTC ${inUtc}`,
    title: `UTC ${inUtc}`,
  };
}

/** Options for a chart with a time axis in `shift`'s zone. */
export function timeChartOptions(shift: TimeShift, precision: Precision): DeepPartial<TimeChartOptions> {
  const p: Precision = precision === 'day' ? 'minute' : precision;
  return {
    ...baseOptions(),
    localization: {
      locale: 'en-US',
      // The crosshair's time label: the real instant in the user's zone.
      timeFormatter: (t: Time) => formatTime(shift.utcOf(t as number), shift.timeZone, p),
    },
    timeScale: {
      timeVisible: precision !== 'day',
      secondsVisible: precision === 'second',
      borderColor: COLORS.grid,
      minBarSpacing: 0.02,
      enableConflation: true,
      // Shifted times are wall-clock times written as UTC: label them as UTC fields.
      tickMarkFormatter: (t: Time, type: TickMarkType) => tickLabel(t as number, type),
    },
  };
}

/** An axis label for a shifted time (wall clock written as UTC). */
export function tickLabel(shifted: number, type: TickMarkType): string {
  const d = new Date(shifted * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  switch (type) {
    case TickMarkType.Year:
      return String(d.getUTCFullYear());
    case TickMarkType.Month:
      return months[d.getUTCMonth()] ?? '';
    case TickMarkType.DayOfMonth:
      return String(d.getUTCDate());
    case TickMarkType.Time:
      return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    default:
      return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  }
}

/** Options shared by time and numeric-axis charts. */
export function baseOptions() {
  return {
    autoSize: true,
    layout: {
      background: { type: ColorType.Solid, color: '#ffffff' } as const,
      textColor: COLORS.ink,
      fontFamily: FONT,
      fontSize: 12,
      // The TradingView attribution is in the report's footer (licence: link to tradingview.com).
      attributionLogo: false,
      panes: { separatorColor: '#d8d8d4', enableResize: true },
    },
    grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
    crosshair: { mode: CrosshairMode.Normal },
    rightPriceScale: { borderColor: COLORS.grid },
    // On a phone a vertical swipe scrolls the page, not the chart.
    handleScroll: { vertTouchDrag: false },
  };
}

/** Keyboard and toolbar control of a chart whose main series has a point at each of `times`. */
export interface Navigation<H> {
  chart: IChartApiBase<H>;
  series: ISeriesApi<SeriesType, H>;
  /** Horizontal positions of the main series' points, ascending. */
  times: readonly H[];
  /** The main series' value at point `i` (where the keyboard crosshair sits). */
  valueAt: (i: number) => number;
  /** Called with the point under the crosshair, or null when it leaves. */
  show: (i: number | null) => void;
}

export function navigate<H>(ctx: Context, f: Frame, nav: Navigation<H>): Disposable {
  const { chart, series, times } = nav;
  const index = new Map<H, number>();
  times.forEach((t, i) => index.set(t, i));
  let cursor: number | null = null;
  const last = times.length - 1;

  const onMove = (param: { time?: H; logical?: number }) => {
    if (param.time === undefined) {
      // The pointer left: the legend shows the last point again.
      if (cursor === null) nav.show(null);
      return;
    }
    const i = index.get(param.time);
    if (i !== undefined) nav.show(i);
  };
  chart.subscribeCrosshairMove(onMove);

  const range = () => chart.timeScale().getVisibleLogicalRange();
  const setRange = (from: number, to: number) => chart.timeScale().setVisibleLogicalRange({ from, to });

  const zoom = (factor: number) => {
    const r = range();
    if (!r) return;
    const width = Math.max(5, (r.to - r.from) * factor);
    const centre = cursor ?? (r.from + r.to) / 2;
    const share = r.to - r.from > 0 ? (centre - r.from) / (r.to - r.from) : 0.5;
    setRange(centre - width * share, centre + width * (1 - share));
  };
  const pan = (fraction: number) => {
    const r = range();
    if (!r) return;
    const d = (r.to - r.from) * fraction;
    setRange(r.from + d, r.to + d);
  };
  const moveTo = (i: number) => {
    if (last < 0) return;
    const k = Math.max(0, Math.min(last, i));
    cursor = k;
    const r = range();
    if (r && (k < r.from || k > r.to)) {
      const w = r.to - r.from;
      setRange(k - w / 2, k + w / 2);
    }
    chart.setCrosshairPosition(nav.valueAt(k), times[k] as H, series);
    nav.show(k);
  };
  const reset = () => {
    cursor = null;
    chart.clearCrosshairPosition();
    chart.timeScale().fitContent();
    nav.show(null);
  };

  const onKey = (e: KeyboardEvent) => {
    const r = range();
    const visible = r ? Math.max(1, Math.round((r.to - r.from) / 10)) : 10;
    const from = cursor ?? (r ? Math.min(last, Math.max(0, Math.round(r.to))) : last);
    let handled = true;
    switch (e.key) {
      case 'ArrowLeft':
        if (e.shiftKey) pan(-0.1);
        else moveTo(cursor === null ? from : from - 1);
        break;
      case 'ArrowRight':
        if (e.shiftKey) pan(0.1);
        else moveTo(cursor === null ? from : from + 1);
        break;
      case 'PageUp':
        moveTo(from - visible);
        break;
      case 'PageDown':
        moveTo(from + visible);
        break;
      case 'Home':
        moveTo(0);
        break;
      case 'End':
        moveTo(last);
        break;
      case '+':
      case '=':
        zoom(0.8);
        break;
      case '-':
      case '_':
        zoom(1.25);
        break;
      case '0':
        reset();
        break;
      case 'Escape':
        cursor = null;
        chart.clearCrosshairPosition();
        nav.show(null);
        break;
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  };
  f.chart.addEventListener('keydown', onKey);

  const doc = ctx.document;
  const button = (text: string, label: string, action: () => void) => {
    const b = el(doc, 'button', { type: 'button', 'aria-label': label, title: label }, text);
    b.addEventListener('click', action);
    return b;
  };
  f.toolbar.append(
    button('−', 'Zoom out', () => zoom(1.25)),
    button('+', 'Zoom in', () => zoom(0.8)),
    button('Reset', 'Show everything', reset),
  );

  return {
    dispose() {
      chart.unsubscribeCrosshairMove(onMove);
      f.chart.removeEventListener('keydown', onKey);
    },
  };
}
