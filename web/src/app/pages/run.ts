// One backtest run: its charts (the report payload of GET /v1/backtests/{id}/chart, drawn by the
// same chart module as report.html), metrics, config and round trips. The charts are asked for at
// the chart's width in points; zooming to a time range re-requests only the range's panels
// (`panels=range`) at that resolution, the whole run's monthly returns and round-trip P&L kept.

import { renderReport, type RenderedReport } from '../../charts';
import type { Panel, ReportPayload } from '../../charts/payload';
import type { Schemas } from '../api';
import { button, card, h, showLoad, stateBox, table, time } from '../dom';
import { download, toCsv } from '../csv';
import { formatNumber, formatPercent, groupDecimal } from '../format';
import type { Cleanup, PageContext } from './context';

type Trade = Schemas['RunTradeDto'];

const PERCENT = new Set(['total_return', 'cagr', 'volatility', 'max_drawdown', 'win_rate', 'exposure']);
const TRADES_PAGE = 500;

/** The points to ask for: the chart's width in CSS pixels, within the API's 1..=20000. */
export function pointsFor(width: number): number {
  return Math.max(100, Math.min(20_000, Math.round(width || 1000)));
}

/** The range payload's panels in place of the whole run's of the same kind; the others kept. */
export function mergeRange(whole: ReportPayload, range: ReportPayload): ReportPayload {
  const byKind = new Map<string, Panel>(range.panels.map((p) => [p.kind, p]));
  return { ...whole, panels: whole.panels.map((p) => byKind.get(p.kind) ?? p) };
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

export function run(ctx: PageContext, id: string): Cleanup {
  const { client } = ctx.session;
  const chartsHost = h('div', { class: 'chart-host', id: 'run-charts' });
  const rangeHost = h('div');
  const metrics = h('div');
  const trades = h('div');
  const config = h('div');
  let rendered: RenderedReport | null = null;
  let whole: ReportPayload | null = null;
  let disposed = false;

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

  const draw = (payload: ReportPayload) => {
    rendered?.dispose();
    const root = h('div');
    chartsHost.replaceChildren(root);
    rendered = renderReport(root, payload);
    return rendered;
  };

  const points = () => pointsFor(chartsHost.clientWidth);
  const path = `/v1/backtests/${encodeURIComponent(id)}/chart`;

  const rangeForm = (payload: ReportPayload) => {
    const candles = payload.panels.find((p) => p.kind === 'candles') as { time?: number[] } | undefined;
    const t = candles?.time ?? [];
    const first = t[0];
    const last = t[t.length - 1];
    if (first === undefined || last === undefined) return h('div');
    const from = h('input', { type: 'datetime-local', id: 'range-from', value: secondsToLocalInput(first) });
    const to = h('input', { type: 'datetime-local', id: 'range-to', value: secondsToLocalInput(last) });
    const status = h('span', { class: 'muted', 'aria-live': 'polite' });
    const zoom = async (f: number | null, tt: number | null) => {
      if (!whole) return;
      if (f === null && tt === null) {
        status.textContent = '';
        draw(whole);
        return;
      }
      status.textContent = 'Loading the range…';
      const q = new URLSearchParams({ points: String(points()), panels: 'range' });
      if (f !== null) q.set('from', String(f));
      if (tt !== null) q.set('to', String(tt));
      const r = await client.getUntyped(`${path}?${q}`);
      if (disposed) return;
      if (r.state !== 'ok') {
        status.textContent = r.state === 'error' ? r.message : '';
        return;
      }
      draw(mergeRange(whole, r.data as ReportPayload));
      status.textContent = 'Equity and candles of the range, at full resolution for its width.';
    };
    const form = h(
      'form',
      { class: 'range', 'aria-label': 'Time range of the charts' },
      h('div', { class: 'field' }, h('label', { for: 'range-from' }, 'From'), from),
      h('div', { class: 'field' }, h('label', { for: 'range-to' }, 'To'), to),
      h('button', { type: 'submit', class: 'btn primary' }, 'Show range'),
      button('Last month', () => void zoom(last - 31 * 86400, last)),
      button('Last year', () => void zoom(last - 366 * 86400, last)),
      button('Whole run', () => void zoom(null, null)),
      status,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void zoom(localInputToSeconds(from.value), localInputToSeconds(to.value));
    });
    return form;
  };

  const loadCharts = async () => {
    const r = await client.getUntyped(`${path}?points=${points()}&panels=all`);
    if (disposed) return;
    if (r.state !== 'ok') {
      chartsHost.replaceChildren(stateBox('error', `Charts: ${r.state === 'error' ? r.message : ''}`));
      return;
    }
    whole = r.data as ReportPayload;
    const done = draw(whole);
    rangeHost.replaceChildren(rangeForm(whole));
    await done.ready;
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
    rendered?.dispose();
  };
}
