// One backtest run: its charts (the report payload of GET /v1/backtests/{id}/chart, drawn by the
// same chart module as report.html), metrics, config and round trips. The charts are asked for at
// the chart's width in points; zooming into the equity or price chart (or the range form)
// re-requests only the range's panels (`panels=range`) at that resolution and redraws those two,
// the whole run's monthly returns and round-trip P&L kept.

import { renderReport, type RenderedReport } from '../../charts';
import type { Panel, ReportPayload } from '../../charts/payload';
import type { Schemas } from '../api';
import { button, card, h, showLoad, stateBox, table, time } from '../dom';
import { download, toCsv } from '../csv';
import { formatNumber, formatPercent, groupDecimal, userTimeZone } from '../format';
import { chartOf } from '../chart-tap';
import { offsetSeconds } from '../../charts/time';
import type { Cleanup, PageContext } from './context';

type Trade = Schemas['RunTradeDto'];

const PERCENT = new Set(['total_return', 'cagr', 'volatility', 'max_drawdown', 'win_rate', 'exposure']);
const TRADES_PAGE = 500;

/** The points to ask for: the chart's width in CSS pixels, within the API's 1..=20000. */
export function pointsFor(width: number): number {
  return Math.max(100, Math.min(20_000, Math.round(width || 1000)));
}

/** `datetime-local` value (local wall clock) ↔ UTC seconds. */
export function localInputToSeconds(value: string): number | null {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}
export function secondsToLocalInput(s: number): string {
  const d = new Date(s * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export const tradeCsv = (trades: readonly Trade[]) =>
  toCsv(
    ['instrument', 'side', 'quantity', 'entry_time_utc', 'entry_price', 'exit_time_utc', 'exit_price', 'pnl', 'fees'],
    trades.map((t) => [t.instrument, t.side, t.quantity, new Date(t.entry_ts_ns / 1e6).toISOString(), t.entry_price, new Date(t.exit_ts_ns / 1e6).toISOString(), t.exit_price, t.pnl, t.fees]),
  );

/** The panels a zoom replaces (`panels=range` answers these) and the whole run's others. */
export function splitPanels(payload: ReportPayload): { range: ReportPayload; rest: ReportPayload } {
  const ranged = (p: Panel) => p.kind === 'equity' || p.kind === 'candles';
  return { range: { ...payload, panels: payload.panels.filter(ranged) }, rest: { ...payload, panels: payload.panels.filter((p) => !ranged(p)) } };
}

/** Whether a view of `[from, to]` (UTC s) of a chart loaded for `[loadedFrom, loadedTo]` at `barsPerCandle` deserves a finer request. */
export function wantsFiner(view: { from: number; to: number }, loaded: { from: number; to: number; barsPerCandle: number }): boolean {
  if (loaded.barsPerCandle <= 1) return false;
  const span = loaded.to - loaded.from;
  return span > 0 && view.to - view.from < 0.8 * span;
}

export function run(ctx: PageContext, id: string): Cleanup {
  const { client } = ctx.session;
  const chartsHost = h('div', { class: 'chart-host', id: 'run-charts' });
  const rangeHost = h('div');
  const rangeRoot = h('div');
  const restRoot = h('div');
  const metrics = h('div');
  const trades = h('div');
  const config = h('div');
  let rangeDrawn: RenderedReport | null = null;
  let restDrawn: RenderedReport | null = null;
  let whole: ReportPayload | null = null;
  let disposed = false;
  let zoomTimer: ReturnType<typeof setTimeout> | null = null;
  let unwatch: Array<() => void> = [];
  const zone = userTimeZone();
  let status: HTMLElement = h('span');

  ctx.main.replaceChildren(
    h('p', {}, h('a', { href: '#/backtests' }, '← Backtests')),
    h('h1', {}, `Backtest run ${id}`),
    card('Charts', rangeHost, chartsHost),
    card('Metrics', metrics),
    card('Round trips', trades),
    card('Config', config),
  );
  chartsHost.replaceChildren(stateBox('loading', 'Loading charts…'));
  for (const s of [metrics, trades, config]) s.replaceChildren(stateBox('loading', 'Loading the run…'));

  const points = () => pointsFor(chartsHost.clientWidth);
  const path = `/v1/backtests/${encodeURIComponent(id)}/chart`;

  /** The loaded range and resolution of the drawn candles. */
  const loadedOf = (payload: ReportPayload) => {
    const c = payload.panels.find((p) => p.kind === 'candles') as { time?: number[]; bars_per_candle?: number } | undefined;
    const t = c?.time ?? [];
    return { from: t[0] ?? 0, to: t[t.length - 1] ?? 0, barsPerCandle: c?.bars_per_candle ?? 1 };
  };

  /** Follows the zoom and pan of the drawn equity and candle charts: a view finer than the loaded candles re-requests its range. */
  const watch = (payload: ReportPayload) => {
    for (const u of unwatch) u();
    unwatch = [];
    const loaded = loadedOf(payload);
    for (const sel of ['#candles .tp-chart', '#equity .tp-chart']) {
      const chart = chartOf(rangeRoot.querySelector(sel));
      if (!chart) continue;
      const onChange = () => {
        if (zoomTimer) clearTimeout(zoomTimer);
        zoomTimer = setTimeout(() => {
          const r = chart.timeScale().getVisibleRange();
          if (!r || disposed) return;
          // The charts' times are wall-clock times of the zone written as UTC (charts/time.ts).
          const utc = (shifted: number) => shifted - offsetSeconds(shifted, zone);
          const view = { from: Math.floor(utc(r.from as number)), to: Math.ceil(utc(r.to as number)) };
          if (wantsFiner(view, loaded)) void zoom(view.from, view.to, 'the visible range');
        }, 400);
      };
      chart.timeScale().subscribeVisibleTimeRangeChange(onChange);
      unwatch.push(() => chart.timeScale().unsubscribeVisibleTimeRangeChange(onChange));
      // A zoom made between the draw and this subscription (a quick `+`) is honoured too.
      onChange();
    }
  };

  const drawRange = (payload: ReportPayload) => {
    for (const u of unwatch) u();
    unwatch = [];
    rangeDrawn?.dispose();
    rangeRoot.replaceChildren();
    rangeRoot.removeAttribute('data-rendered');
    rangeRoot.classList.remove('tp-report');
    rangeDrawn = renderReport(rangeRoot, payload);
    const drawn = rangeDrawn;
    return drawn.ready.then(() => {
      if (!disposed && drawn === rangeDrawn) watch(payload);
    });
  };

  const zoom = async (f: number | null, tt: number | null, what = 'the range') => {
    if (!whole) return;
    if (f === null && tt === null) {
      status.textContent = '';
      await drawRange(splitPanels(whole).range);
      return;
    }
    status.textContent = `Loading ${what}…`;
    const q = new URLSearchParams({ points: String(points()), panels: 'range' });
    if (f !== null) q.set('from', String(f));
    if (tt !== null) q.set('to', String(tt));
    const r = await client.getUntyped(`${path}?${q}`);
    if (disposed) return;
    if (r.state !== 'ok') {
      status.textContent = r.state === 'error' ? r.message : '';
      return;
    }
    await drawRange(r.data as ReportPayload);
    const l = loadedOf(r.data as ReportPayload);
    status.textContent = `Equity and candles of ${what}, ${l.barsPerCandle === 1 ? 'every bar' : `${l.barsPerCandle} bars a candle`}. “Whole run” goes back.`;
  };

  const rangeForm = (payload: ReportPayload) => {
    const { from: first, to: last } = loadedOf(payload);
    if (!first && !last) return h('div');
    const from = h('input', { type: 'datetime-local', id: 'range-from', value: secondsToLocalInput(first) });
    const to = h('input', { type: 'datetime-local', id: 'range-to', value: secondsToLocalInput(last) });
    status = h('span', { class: 'muted', 'aria-live': 'polite' });
    const form = h(
      'form',
      { class: 'range', 'aria-label': 'Time range of the charts' },
      h('div', { class: 'field' }, h('label', { for: 'range-from' }, 'From'), from),
      h('div', { class: 'field' }, h('label', { for: 'range-to' }, 'To'), to),
      h('button', { type: 'submit', class: 'btn primary' }, 'Show range'),
      button('Last month', () => void zoom(last - 31 * 86400, last, 'the last month')),
      button('Last year', () => void zoom(last - 366 * 86400, last, 'the last year')),
      button('Whole run', () => void zoom(null, null)),
      status,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void zoom(localInputToSeconds(from.value), localInputToSeconds(to.value));
    });
    return h('div', {}, form, h('p', { class: 'muted' }, 'Zooming into the equity or price chart (wheel, pinch, + / −) loads finer candles of the visible range.'));
  };

  const loadCharts = async () => {
    const r = await client.getUntyped(`${path}?points=${points()}&panels=all`);
    if (disposed) return;
    if (r.state !== 'ok') {
      chartsHost.replaceChildren(stateBox('error', `Charts: ${r.state === 'error' ? r.message : ''}`));
      return;
    }
    whole = r.data as ReportPayload;
    const { range, rest } = splitPanels(whole);
    chartsHost.replaceChildren(rangeRoot, restRoot);
    const first = drawRange(range);
    rangeHost.replaceChildren(rangeForm(whole));
    restDrawn = renderReport(restRoot, rest);
    await Promise.all([first, restDrawn.ready]);
    chartsHost.dataset.drawn = 'true';
  };

  const loadRun = async () => {
    const r = await client.get('/v1/backtests/{id}', { path: { id: Number(id) } });
    if (disposed) return;
    showLoad(metrics, r, (d) => {
      const dl = h('dl', { class: 'facts' });
      const pairs: Array<[string, Node | string]> = [
        ['Name', d.run.name],
        ['Strategy', d.run.strategy],
        ['Started', time(d.run.started_at_ns)],
        ['Finished', time(d.run.finished_at_ns)],
        ...Object.entries(d.run.metrics).map(([k, v]): [string, string] => [k, PERCENT.has(k) ? formatPercent(v) : Number.isInteger(v) ? String(v) : formatNumber(v, 4)]),
      ];
      for (const [k, v] of pairs) dl.append(h('div', {}, h('dt', {}, k), h('dd', {}, v)));
      return dl;
    });
    showLoad(config, r, (d) => h('pre', { class: 'config' }, JSON.stringify(d.config, null, 2)));
    showLoad(
      trades,
      r,
      (d) => {
        let shown = TRADES_PAGE;
        const wrap = h('div');
        const render = () => {
          const more = d.trades.length > shown ? button(`Show ${Math.min(TRADES_PAGE, d.trades.length - shown)} more`, () => ((shown += TRADES_PAGE), render())) : null;
          wrap.replaceChildren(
            h('div', { class: 'row' }, h('span', { class: 'muted' }, `${d.trades.length} round trips${d.trades.length > shown ? `, the first ${shown} shown` : ''}.`), button('Export CSV', () => download(document, `run-${id}-trades.csv`, tradeCsv(d.trades)))),
            table(
              'Round trips',
              [
                { label: 'Entry', cell: (t: Trade) => time(t.entry_ts_ns) },
                { label: 'Exit', cell: (t) => time(t.exit_ts_ns) },
                { label: 'Instrument', cell: (t) => t.instrument },
                { label: 'Side', cell: (t) => h('span', { class: `side ${t.side}` }, t.side === 'buy' ? 'long' : 'short') },
                { label: 'Quantity', cell: (t) => groupDecimal(t.quantity), num: true },
                { label: 'Entry price', cell: (t) => groupDecimal(t.entry_price), num: true },
                { label: 'Exit price', cell: (t) => groupDecimal(t.exit_price), num: true },
                { label: 'P&L', cell: (t) => h('span', { class: Number(t.pnl) < 0 ? 'neg' : 'pos' }, groupDecimal(t.pnl)), num: true },
                { label: 'Fees', cell: (t) => groupDecimal(t.fees), num: true },
              ],
              d.trades.slice(0, shown),
              undefined,
              true,
            ),
            ...(more ? [more] : []),
          );
        };
        render();
        return wrap;
      },
      { when: (d) => d.trades.length === 0, text: 'This run has no round trips.' },
    );
  };

  // The charts first: the run's details (a long run has tens of thousands of round trips) after.
  void loadCharts()
    .then(() => loadRun())
    .then(() => ctx.ready());
  return () => {
    disposed = true;
    if (zoomTimer) clearTimeout(zoomTimer);
    for (const u of unwatch) u();
    rangeDrawn?.dispose();
    restDrawn?.dispose();
  };
}
