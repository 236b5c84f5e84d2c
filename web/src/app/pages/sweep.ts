// A stored sweep: how far to trust its best trial (Deflated Sharpe Ratio, PBO), the objective
// over any two of its parameters as a heatmap, and the best trials.

import { darkCell, diverging } from '../../charts/monthly';
import type { Schemas } from '../api';
import { card, h, showLoad, stateBox, table, time } from '../dom';
import { formatNumber, formatPercent } from '../format';
import { paramLabel, rankTrials, spanLabel, sweepGrid } from '../sweep-grid';
import type { Cleanup, PageContext } from './context';

type Detail = Schemas['SweepDetailDto'];
type Trial = Schemas['SweepTrialDto'];

/** Best trials listed. */
const BEST_SHOWN = 20;

const num = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? '—' : formatNumber(v, digits));
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : formatPercent(v));

/** A sweep's return period in words. */
export function periodText(returns: Schemas['ReturnsDto']): string {
  if (returns.period === 'trading_day') return 'trading days';
  if (returns.period === 'bar') return 'bars';
  return `blocks of ${returns.bars ?? '?'} bars`;
}

/** The verdicts shown beside the statistics (the thresholds of Bailey and López de Prado). */
export function dsrVerdict(dsr: number): string {
  return dsr >= 0.95 ? 'passes the 0.95 bar: unlikely to be luck of the search' : 'below the 0.95 bar: the best trial may be luck of the search';
}

export function pboVerdict(pbo: number): string {
  if (pbo <= 0.1) return 'low: the in-sample best usually stays good out of sample';
  if (pbo < 0.5) return 'moderate: treat the best parameters with care';
  return 'high: the in-sample best is as likely as not to disappoint out of sample (likely overfit)';
}

function facts(pairs: Array<[string, Node | string]>): HTMLElement {
  const dl = h('dl', { class: 'facts' });
  for (const [k, v] of pairs) dl.append(h('div', {}, h('dt', {}, k), h('dd', {}, v)));
  return dl;
}

function summary(d: Detail): HTMLElement {
  const s = d.sweep;
  const best = d.report?.best_trial;
  const bestTrial = best === null || best === undefined ? undefined : d.trials.find((t) => t.id === best);
  return facts([
    ['Parameters', s.parameters.join(', ')],
    ['Objective', s.objective],
    ['Trials', `${s.trials_stored} of ${s.total_trials} stored${d.report ? `, ${d.report.valid_trials} ran` : ''}`],
    ['Shards', s.shard_count === 1 ? 'one (not sharded)' : `${s.shards_stored.length} of ${s.shard_count} stored`],
    ['Returns per', periodText(s.returns)],
    ['Stored', time(s.updated_at_ns)],
    ['Best trial', bestTrial ? `#${bestTrial.id}: ${s.parameters.map((p, i) => `${p}=${paramLabel(bestTrial.values[i] as number)}`).join(' ')}` : '—'],
    [`Best ${s.objective}`, num(bestTrial?.objective, 4)],
  ]);
}

function overfitting(d: Detail): HTMLElement {
  const r = d.report;
  if (!r) return stateBox('empty', `No report yet: ${d.report_unavailable ?? 'the sweep is incomplete'}.`);
  const parts: Node[] = [];
  const dsr = r.deflated_sharpe;
  if (dsr) {
    parts.push(
      h('h3', {}, 'Deflated Sharpe Ratio'),
      h('p', { class: 'verdict', 'data-dsr': dsr.dsr.toFixed(6) }, h('strong', {}, formatNumber(dsr.dsr, 3)), ` — ${dsrVerdict(dsr.dsr)}.`),
      facts([
        ['PSR (against 0)', formatNumber(dsr.psr, 3)],
        ['Best per-period Sharpe', formatNumber(dsr.sharpe, 4)],
        ['Threshold (expected max of luck)', formatNumber(dsr.expected_max_sharpe, 4)],
        ['Trials selected from', String(dsr.trials)],
        ['Returns (T)', String(dsr.periods)],
      ]),
    );
  } else parts.push(h('h3', {}, 'Deflated Sharpe Ratio'), stateBox('empty', 'Undefined for this sweep (fewer than two trials with returns that vary).'));
  const pbo = r.pbo;
  if (pbo) {
    parts.push(
      h('h3', {}, 'Probability of Backtest Overfitting'),
      h('p', { class: 'verdict', 'data-pbo': pbo.pbo.toFixed(6) }, h('strong', {}, formatPercent(pbo.pbo, 1)), ` — ${pboVerdict(pbo.pbo)}.`),
      facts([
        ['Out-of-sample loss', formatPercent(pbo.prob_oos_loss, 1)],
        ['Degradation slope', num(pbo.degradation_slope, 3)],
        ['Median logit', formatNumber(pbo.median_logit, 3)],
        ['Blocks / splits', `${pbo.blocks} / ${pbo.splits}`],
      ]),
    );
  } else parts.push(h('h3', {}, 'Probability of Backtest Overfitting'), stateBox('empty', `Not computed: ${r.pbo_unavailable ?? 'no reason given'}.`));
  return h('div', {}, ...parts);
}

/** The heatmap with its axis pickers (two or more parameters) and colour legend. */
function heatmap(d: Detail): HTMLElement {
  const names = d.sweep.parameters;
  const host = h('div');
  const objective = d.sweep.objective;
  const pick = (id: string, label: string, selected: number) =>
    h('div', { class: 'field' }, h('label', { for: id }, label), h('select', { id, name: id }, ...names.map((n, i) => h('option', { value: i, selected: i === selected }, n))));
  const xField = pick('heat-x', 'Columns', 0);
  const yField = names.length > 1 ? pick('heat-y', 'Rows', 1) : null;
  const note = h('p', { class: 'muted' });
  const grid = h('div');
  const draw = () => {
    const x = Number((xField.querySelector('select') as HTMLSelectElement).value);
    let y = yField ? Number((yField.querySelector('select') as HTMLSelectElement).value) : null;
    if (y === x) y = null;
    const g = sweepGrid(d.trials, x, y);
    const xName = names[x] as string;
    const yName = y === null ? null : (names[y] as string);
    const others = names.filter((_, i) => i !== x && i !== y);
    const grouped = g.xs.some((s) => s.from !== s.to) || g.ys.some((s) => s.from !== s.to);
    const grey = d.trials_truncated ? `no trial among the ${d.trials.length} best-ranked shown` : 'no trial ran there';
    note.textContent = `${objective} of each ${yName ? `(${xName}, ${yName})` : xName}${others.length ? `, the best over ${others.join(', ')}` : ''}${grouped ? ', neighbouring values grouped (the best of each group)' : ''}; red below zero, green above, grey: ${grey}.`;
    const head = h('tr', {}, h('th', { scope: 'col', class: 'corner' }, yName ? `${yName} ↓ ${xName} →` : `${xName} →`), ...g.xs.map((v) => h('th', { scope: 'col' }, spanLabel(v))));
    const body = h('tbody');
    g.ys.forEach((yv, r) => {
      const tr = h('tr', {}, h('th', { scope: 'row' }, yName ? spanLabel(yv) : objective));
      g.xs.forEach((xv, c) => {
        const cell = g.cells[r]?.[c] ?? null;
        const where = `${xName}=${spanLabel(xv)}${yName ? `, ${yName}=${spanLabel(yv)}` : ''}`;
        if (!cell) {
          tr.append(h('td', { class: 'tp-missing', title: `${where}: ${grey}` }));
          return;
        }
        const td = h('td', { title: `${where}: ${objective} ${formatNumber(cell.value, 4)} (trial #${cell.trial})`, 'data-trial': cell.trial }, formatNumber(cell.value, 2));
        td.style.background = diverging(cell.value, g.scale);
        if (darkCell(cell.value, g.scale)) td.style.color = '#ffffff';
        tr.append(td);
      });
      body.append(tr);
    });
    const caption = h('caption', { class: 'sr-only' }, `${objective} by ${xName}${yName ? ` and ${yName}` : ''}`);
    grid.replaceChildren(
      h('div', { class: 'tp-heat', tabindex: 0, role: 'region', 'aria-label': `Parameter heatmap of ${objective} (scrolls sideways)` }, h('table', { class: 'tp-heatmap sweep-heatmap', 'data-cells': g.xs.length * g.ys.length }, caption, h('thead', {}, head), body)),
    );
  };
  for (const f of [xField, yField]) f?.querySelector('select')?.addEventListener('change', draw);
  host.append(h('form', { class: 'range', onsubmit: (e: Event) => e.preventDefault() }, xField, yField), note, grid);
  draw();
  return host;
}

function best(d: Detail): HTMLElement {
  const ranked = rankTrials(d.trials).slice(0, BEST_SHOWN);
  return table(
    `The ${BEST_SHOWN} best trials`,
    [
      { label: 'Rank', cell: (t: Trial) => String(ranked.indexOf(t) + 1), num: true },
      { label: 'Trial', cell: (t) => `#${t.id}`, num: true },
      ...d.sweep.parameters.map((p, i) => ({ label: p, cell: (t: Trial) => paramLabel(t.values[i] as number), num: true })),
      { label: d.sweep.objective, cell: (t) => num(t.objective, 4), num: true },
      // The objective's own column is not repeated.
      ...(d.sweep.objective === 'sharpe' ? [] : [{ label: 'Sharpe', cell: (t: Trial) => num(t.sharpe, 2), num: true }]),
      ...(d.sweep.objective === 'total_return' ? [] : [{ label: 'Return', cell: (t: Trial) => pct(t.total_return), num: true }]),
      { label: 'Max drawdown', cell: (t) => pct(t.max_drawdown), num: true },
      { label: 'Round trips', cell: (t) => (t.round_trips === null || t.round_trips === undefined ? '—' : String(t.round_trips)), num: true },
      { label: 'Note', cell: (t) => t.invalid ?? '' },
    ],
    ranked,
  );
}

export function sweep(ctx: PageContext, id: string): Cleanup {
  const { client } = ctx.session;
  let disposed = false;
  const hosts = { summary: h('div'), overfit: h('div'), heat: h('div'), best: h('div') };
  ctx.main.replaceChildren(
    h('p', {}, h('a', { href: '#/backtests' }, '← Backtests')),
    h('h1', {}, `Sweep ${id}`),
    card('Summary', hosts.summary),
    card('Overfitting', hosts.overfit),
    card('Parameter heatmap', hosts.heat),
    card('Best trials', hosts.best),
  );
  for (const host of Object.values(hosts)) host.replaceChildren(stateBox('loading', 'Loading the sweep…'));
  void client.get('/v1/sweeps/{id}', { path: { id } }).then((r) => {
    if (disposed) return;
    showLoad(hosts.summary, r, summary);
    showLoad(hosts.overfit, r, overfitting);
    const noTrials = { when: (d: Detail) => d.trials.length === 0, text: 'No trials stored.' };
    showLoad(hosts.heat, r, heatmap, noTrials);
    showLoad(hosts.best, r, best, noTrials);
    ctx.ready();
  });
  return () => {
    disposed = true;
  };
}
