// Strategies: status, start / stop (trader+), parameters, per-strategy realised P&L and its
// day / week / month breakdown computed here from the fills loaded (and the account's equity
// change per period from the equity series).

import type { Schemas } from '../api';
import { button, card, confirmDialog, h, outcome, showLoad, stateBox, table, time } from '../dom';
import { formatNumber, groupDecimal, userTimeZone } from '../format';
import { breakdown, equityChanges, strategyPnl, type Period, type PeriodRow } from '../periods';
import { can } from '../roles';
import { throttle, type Cleanup, type PageContext } from './context';

const FILLS_LOADED = 10_000;

export function strategies(ctx: PageContext): Cleanup {
  const { client, role } = ctx.session;
  const list = h('div');
  const periods = h('div');
  const message = outcome();
  let period: Period = 'day';
  let disposed = false;
  let fills: Schemas['FillDto'][] = [];
  let equity: Schemas['EquityPointDto'][] = [];
  let names: string[] = [];
  const zone = userTimeZone();

  const control = async (s: Schemas['StrategyDto'], action: 'start' | 'stop') => {
    const reason = await confirmDialog({
      title: `${action === 'stop' ? 'Stop' : 'Start'} ${s.name}?`,
      text: action === 'stop' ? `${s.name} keeps seeing market data but its orders are refused; its open orders are cancelled.` : `${s.name} may send orders again.`,
      confirm: action === 'stop' ? 'Stop' : 'Start',
      danger: action === 'stop',
      reason: `${action} from the dashboard`,
    });
    if (reason === null) return;
    message.textContent = 'Sending…';
    const path = action === 'stop' ? '/v1/strategies/{name}/stop' : '/v1/strategies/{name}/start';
    const r = await client.post(path, { path: { name: s.name }, body: { reason, cancel_open: action === 'stop' ? true : null } });
    if (disposed) return;
    message.textContent = r.state === 'ok' ? `${s.name} is ${r.data.status}.` : `Failed: ${r.state === 'error' ? r.message : ''}`;
    void load();
  };

  const renderList = (data: Schemas['StrategyDto'][]) => {
    const pnl = strategyPnl(fills);
    const wrap = h('div');
    wrap.append(
      table(
        'Strategies',
        [
          { label: 'Name', cell: (s: Schemas['StrategyDto']) => h('strong', {}, s.name) },
          { label: 'Kind', cell: (s) => s.kind },
          { label: 'Instrument', cell: (s) => s.instrument },
          { label: 'Status', cell: (s) => h('span', { class: s.status === 'running' ? 'pill ok' : 'pill bad', 'data-status': s.status }, s.status) },
          { label: 'Position', cell: (s) => groupDecimal(s.position), num: true },
          { label: 'Realised P&L*', cell: (s) => (pnl.has(s.name) ? formatNumber(pnl.get(s.name)?.pnl ?? 0) : '—'), num: true },
          { label: 'Bars', cell: (s) => String(s.bars), num: true },
          { label: 'Last bar', cell: (s) => time(s.last_bar_ns) },
          {
            label: 'Parameters',
            cell: (s) => h('details', {}, h('summary', {}, 'show'), h('pre', {}, JSON.stringify(s.parameters, null, 2))),
          },
          ...(can(role, 'strategy_control')
            ? [
                {
                  label: 'Control',
                  cell: (s: Schemas['StrategyDto']) =>
                    s.status === 'running' ? button(`Stop ${s.name}`, () => void control(s, 'stop'), 'danger') : button(`Start ${s.name}`, () => void control(s, 'start'), 'primary'),
                },
              ]
            : []),
        ],
        data,
      ),
      h('p', { class: 'muted' }, `* Realised P&L: computed in this browser from the last ${fills.length} fills (GET /v1/fills), average cost per strategy and instrument, net of fees; open positions' unrealised P&L is not included.`),
      message,
    );
    return wrap;
  };

  const renderPeriods = () => {
    const rows = breakdown(fills, period, zone);
    const eq = equityChanges(equity, period, zone);
    const label = period === 'week' ? 'ISO week' : period;
    const radios = h('fieldset', { class: 'segmented' }, h('legend', {}, 'Period'));
    for (const p of ['day', 'week', 'month'] as Period[]) {
      const id = `period-${p}`;
      radios.append(
        h('input', { type: 'radio', name: 'period', id, value: p, checked: p === period, onchange: () => ((period = p), periods.replaceChildren(renderPeriods())) }),
        h('label', { for: id }, p),
      );
    }
    const wrap = h('div', {}, radios);
    wrap.append(h('h3', {}, `Realised P&L by ${label}`));
    if (rows.length === 0) wrap.append(stateBox('empty', 'No fills loaded yet.'));
    else
      wrap.append(
        table(
          `Realised P&L by ${label}`,
          [
            { label, cell: (r: PeriodRow) => r.period },
            ...names.map((n) => ({ label: n, cell: (r: PeriodRow) => { const v = r.byStrategy[n]; return v === undefined ? '—' : formatNumber(v); }, num: true })),
            { label: 'All strategies', cell: (r: PeriodRow) => formatNumber(r.total), num: true },
            { label: 'Fills', cell: (r: PeriodRow) => String(r.fills), num: true },
          ],
          rows.slice(0, 400),
        ),
      );
    wrap.append(
      h(
        'p',
        { class: 'muted' },
        `Computed in this browser from the last ${fills.length} fills (GET /v1/fills?limit=${FILLS_LOADED}), by each fill's venue time (a replay's fills carry the bars' times), periods in your time zone (${zone}): realised P&L by average cost per strategy and instrument, net of fees (an opening fill counts its fee only); open positions' unrealised P&L is not included.`,
      ),
    );
    wrap.append(h('h3', {}, `Account equity change by ${label}`));
    if (eq.length === 0) wrap.append(stateBox('empty', 'No equity points recorded yet.'));
    else
      wrap.append(
        table(
          `Account equity change by ${label}`,
          [
            { label, cell: (r: { period: string; change: number; end: number }) => r.period },
            { label: 'Change', cell: (r) => h('span', { class: r.change < 0 ? 'neg' : 'pos' }, formatNumber(r.change)), num: true },
            { label: 'Equity at end', cell: (r) => formatNumber(r.end), num: true },
          ],
          eq.slice(0, 400),
        ),
      );
    wrap.append(
      h(
        'p',
        { class: 'muted' },
        `Computed in this browser from the last ${equity.length} points of GET /v1/equity (recorded by the service's clock; includes unrealised P&L): each period's last point minus the previous period's. The oldest period shown may be partial.`,
      ),
    );
    return wrap;
  };

  const load = async () => {
    const [s, f, e] = await Promise.all([client.get('/v1/strategies'), client.get('/v1/fills', { query: { limit: FILLS_LOADED } }), client.get('/v1/equity', { query: { limit: 10_000 } })]);
    if (disposed) return;
    fills = f.state === 'ok' ? f.data : [];
    equity = e.state === 'ok' ? e.data : [];
    names = s.state === 'ok' ? s.data.map((x) => x.name) : [...new Set(fills.map((x) => x.strategy))];
    showLoad(list, s, renderList, { when: (d) => d.length === 0, text: 'This service runs no strategies.' });
    if (f.state === 'error') periods.replaceChildren(stateBox('error', `Fills: ${f.message}`));
    else if (e.state === 'error') periods.replaceChildren(stateBox('error', `Equity: ${e.message}`));
    else periods.replaceChildren(renderPeriods());
  };

  ctx.main.replaceChildren(h('h1', {}, 'Strategies'), card('Strategies', list), card('Period breakdown', periods));
  list.replaceChildren(stateBox('loading', 'Loading strategies…'));
  periods.replaceChildren(stateBox('loading', 'Loading fills and equity…'));
  const again = throttle(() => void load(), 2000);
  const off = ctx.stream?.on({
    message(m) {
      if (m.type === 'kill_switch' || m.type === 'fill') again();
    },
    resync: () => void load(),
  });
  void load().then(() => ctx.ready());
  return () => {
    disposed = true;
    again.cancel();
    off?.();
  };
}
