// Overview: status, equity chart, strategies, positions, balances, open orders, recent fills,
// risk (rejections) and the kill switch (engage / release: admin, behind a confirmation).

import { renderReport, type RenderedReport } from '../../charts';
import type { Client, Load, Schemas } from '../api';
import { button, card, confirmDialog, h, outcome, showLoad, stateBox, table, time } from '../dom';
import { formatNumber, groupDecimal, nsToSeconds } from '../format';
import { can, type Role } from '../roles';
import { throttle, type Cleanup, type PageContext } from './context';

type Fill = Schemas['FillDto'];
type EquityPoint = Schemas['EquityPointDto'];

/** The chart module's equity panel from the account's equity series (oldest first). */
export function equityPayload(points: readonly EquityPoint[], currency?: string): unknown {
  const sorted = [...points].sort((a, b) => a.ts_ns - b.ts_ns);
  // One point per second at most (the chart's time resolution), the last of each second.
  const time: number[] = [];
  const equity: number[] = [];
  for (const p of sorted) {
    const t = nsToSeconds(p.ts_ns);
    const v = Number(p.equity);
    if (!Number.isFinite(v)) continue;
    if (time.length && time[time.length - 1] === t) equity[equity.length - 1] = v;
    else time.push(t), equity.push(v);
  }
  let peak = -Infinity;
  const drawdown = equity.map((v) => {
    peak = Math.max(peak, v);
    return peak > 0 ? v / peak - 1 : 0;
  });
  return {
    schema: 1,
    title: 'Account equity',
    panels: [
      {
        kind: 'equity',
        id: 'account-equity',
        title: 'Equity and drawdown',
        note: `The last ${sorted.length} points of the account's equity series (GET /v1/equity), cash plus positions at their marks.`,
        ...(currency ? { currency } : {}),
        initial: equity[0] ?? 0,
        time,
        equity,
        drawdown,
        source_points: sorted.length,
      },
    ],
  };
}

/** A fill of the stream as /v1/fills lists it (one FillDto on the server: the same fields). */
export function streamFill(m: Extract<Schemas['StreamMessage'], { type: 'fill' }>): Fill {
  const { type: _type, ...fill } = m;
  return fill;
}

export const fillColumns = [
  { label: 'Time', cell: (f: Fill) => time(f.ts_ns) },
  { label: 'Strategy', cell: (f: Fill) => f.strategy },
  { label: 'Instrument', cell: (f: Fill) => f.instrument },
  { label: 'Side', cell: (f: Fill) => h('span', { class: `side ${f.side}` }, f.side) },
  { label: 'Quantity', cell: (f: Fill) => groupDecimal(f.quantity), num: true },
  { label: 'Price', cell: (f: Fill) => groupDecimal(f.price), num: true },
  { label: 'Fee', cell: (f: Fill) => `${groupDecimal(f.fee)} ${f.fee_asset}`, num: true },
  { label: 'Order', cell: (f: Fill) => h('code', {}, f.client_order_id) },
];

const OPEN_STATUSES = new Set(['submitted', 'accepted', 'triggered', 'partially_filled', 'pending_cancel']);

/** The order columns, with a Cancel button on open orders for a role that may cancel. */
export function orderColumnsFor(role: Role, cancel: (o: Schemas['OrderDto']) => void) {
  if (!can(role, 'cancel_order')) return orderColumns;
  return [
    ...orderColumns,
    {
      label: 'Action',
      cell: (o: Schemas['OrderDto']) => (OPEN_STATUSES.has(o.status) && o.status !== 'pending_cancel' ? button(`Cancel ${o.client_order_id}`, () => cancel(o)) : ''),
    },
  ];
}

/** Asks, then cancels `o` (DELETE /v1/orders/{id}); the outcome goes to `line`. */
export async function cancelOrder(client: Client, o: Schemas['OrderDto'], line: HTMLElement): Promise<void> {
  const ok = await confirmDialog({ title: `Cancel order ${o.client_order_id}?`, text: `${o.side} ${o.quantity} ${o.instrument} (${o.strategy}).`, confirm: 'Cancel order', danger: true });
  if (ok === null) return;
  line.textContent = 'Cancelling…';
  const r = await client.delete('/v1/orders/{client_order_id}', { path: { client_order_id: o.client_order_id } });
  line.textContent = r.state === 'ok' ? `Order ${o.client_order_id} is ${r.data.status}.` : `Not cancelled: ${r.state === 'error' ? r.message : ''}`;
}

export const orderColumns = [
  { label: 'Created', cell: (o: Schemas['OrderDto']) => time(o.created_at_ns) },
  { label: 'Order', cell: (o: Schemas['OrderDto']) => h('code', {}, o.client_order_id) },
  { label: 'Strategy', cell: (o: Schemas['OrderDto']) => o.strategy },
  { label: 'Instrument', cell: (o: Schemas['OrderDto']) => o.instrument },
  { label: 'Side', cell: (o: Schemas['OrderDto']) => h('span', { class: `side ${o.side}` }, o.side) },
  { label: 'Type', cell: (o: Schemas['OrderDto']) => o.type },
  { label: 'Quantity', cell: (o: Schemas['OrderDto']) => groupDecimal(o.quantity), num: true },
  { label: 'Price', cell: (o: Schemas['OrderDto']) => groupDecimal(o.price ?? o.trigger_price ?? null), num: true },
  { label: 'Filled', cell: (o: Schemas['OrderDto']) => groupDecimal(o.filled_quantity), num: true },
  { label: 'Status', cell: (o: Schemas['OrderDto']) => h('span', { class: `status ${o.status}` }, o.reject_reason ? `${o.status} (${o.reject_reason})` : o.status) },
  { label: 'Updated', cell: (o: Schemas['OrderDto']) => time(o.updated_at_ns) },
];

function dl(pairs: Array<[string, Node | string]>): HTMLElement {
  const d = h('dl', { class: 'facts' });
  for (const [k, v] of pairs) d.append(h('div', {}, h('dt', {}, k), h('dd', {}, v)));
  return d;
}

export function statusView(s: Schemas['StatusDto']): HTMLElement {
  const wrap = h('div');
  wrap.append(
    dl([
      ['State', h('span', { class: s.ready ? 'pill ok' : 'pill bad' }, s.ready ? 'ready' : `not ready${s.reason ? `: ${s.reason}` : ''}`)],
      ['Venue', s.venue],
      ['Session', String(s.session)],
      ['Open orders', String(s.open_orders)],
      ['Orders sent', String(s.orders_sent)],
      ['Fills', String(s.fills)],
      ['Last reconciliation', time(s.last_reconciliation_ns)],
    ]),
  );
  return wrap;
}

export function riskView(s: Schemas['StatusDto']): HTMLElement {
  const wrap = h('div');
  wrap.append(dl([['Refused or rejected this session', h('strong', { 'data-testid': 'rejected' }, String(s.rejected))]]));
  const byReason = s.rejected_by_reason;
  if (byReason && Object.keys(byReason).length > 0) {
    const rows = Object.entries(byReason).sort((a, b) => b[1] - a[1]);
    wrap.append(table('Rejections by reason', [{ label: 'Reason', cell: (r: [string, number]) => h('code', {}, r[0]) }, { label: 'Count', cell: (r: [string, number]) => String(r[1]), num: true }], rows));
  } else if (s.rejected > 0) {
    wrap.append(h('p', { class: 'muted' }, 'This server does not break rejections down by reason.'));
  }
  return wrap;
}

export function overview(ctx: PageContext): Cleanup {
  const { client, role } = ctx.session;
  const slots = {
    status: h('div'),
    risk: h('div'),
    kill: h('div'),
    equity: h('div', { class: 'chart-host' }),
    strategies: h('div'),
    positions: h('div'),
    balances: h('div'),
    orders: h('div'),
    fills: h('div'),
  };
  ctx.main.replaceChildren(
    h('h1', {}, 'Overview'),
    h(
      'div',
      { class: 'grid' },
      card('Status', slots.status),
      card('Risk', slots.risk),
      card('Kill switch', slots.kill),
    ),
    card('Strategies', slots.strategies),
    card('Equity', slots.equity),
    h('div', { class: 'grid' }, card('Positions', slots.positions), card('Balances', slots.balances)),
    card('Open orders', slots.orders),
    card('Recent fills', slots.fills),
  );
  for (const s of Object.values(slots)) s.replaceChildren(stateBox('loading', 'Loading…'));

  let chart: RenderedReport | null = null;
  let fills: Fill[] = [];
  let disposed = false;

  const loadStatus = async () => {
    const s = await client.get('/v1/status');
    if (disposed) return;
    showLoad(slots.status, s, statusView);
    showLoad(slots.risk, s, riskView);
  };

  const killMessage = outcome();
  const loadKill = async () => {
    const [k, st] = await Promise.all([client.get('/v1/kill-switch'), client.get('/v1/strategies')]);
    if (disposed) return;
    showLoad(slots.kill, k, (data) => killView(data, st.state === 'ok' ? st.data : []));
  };
  const change = async (scope: string, engaged: boolean) => {
    const reason = await confirmDialog({
      title: engaged ? `Engage the kill switch (${scope})?` : `Release the kill switch (${scope})?`,
      text: engaged
        ? `New orders in scope ${scope} will be refused and its open orders cancelled.`
        : `Orders in scope ${scope} will be accepted again.`,
      confirm: engaged ? 'Engage' : 'Release',
      danger: engaged,
      reason: engaged ? 'engaged from the dashboard' : 'released from the dashboard',
    });
    if (reason === null) return;
    killMessage.textContent = 'Sending…';
    const r = await client.post('/v1/kill-switch', { body: { scope, engaged, reason, cancel_open: engaged } });
    if (disposed) return;
    killMessage.textContent = r.state === 'ok' ? (engaged ? `Engaged ${scope}.` : `Released ${scope}.`) : `Failed: ${r.state === 'error' ? r.message : ''}`;
    void loadKill();
    void loadStatus();
  };
  const killView = (k: Schemas['KillSwitchDto'], strategies: Schemas['StrategyDto'][]) => {
    const wrap = h('div', { 'data-testid': 'kill-switch' });
    const engaged = k.engaged;
    wrap.append(
      h(
        'p',
        {},
        engaged.length === 0 ? h('span', { class: 'pill ok', 'data-kill': 'released' }, 'Released: trading is allowed') : h('span', { class: 'pill bad', 'data-kill': 'engaged' }, `Engaged: ${engaged.join(', ')}`),
      ),
    );
    if (can(role, 'kill_switch')) {
      const list = h('ul', { class: 'plain' });
      for (const scope of engaged) list.append(h('li', {}, h('code', {}, scope), ' ', button(`Release ${scope}`, () => void change(scope, false), 'plain')));
      if (engaged.length) wrap.append(list);
      const scopes = ['global', ...strategies.map((s) => `strategy:${s.name}`), ...[...new Set(strategies.map((s) => s.instrument))].map((i) => `instrument:${i}`)].filter((s) => !engaged.includes(s));
      if (scopes.length) {
        const select = h('select', { id: 'kill-scope' }, ...scopes.map((s) => h('option', { value: s }, s)));
        wrap.append(h('div', { class: 'row' }, h('label', { for: 'kill-scope' }, 'Scope'), select, button('Engage kill switch', () => void change(select.value, true), 'danger')));
      }
      wrap.append(killMessage);
    } else {
      wrap.append(h('p', { class: 'muted' }, 'Only an admin may engage or release it.'));
    }
    return wrap;
  };

  const loadEquity = async () => {
    const [eq, balances] = await Promise.all([client.get('/v1/equity', { query: { limit: 2000 } }), client.get('/v1/balances')]);
    if (disposed) return;
    showLoad(
      slots.balances,
      balances,
      (b) => table('Balances', [{ label: 'Asset', cell: (x: Schemas['BalanceDto']) => x.asset }, { label: 'Total', cell: (x) => groupDecimal(x.total), num: true }], b),
      { when: (b) => b.length === 0, text: 'No balances.' },
    );
    chart?.dispose();
    chart = null;
    if (eq.state !== 'ok') return showLoad(slots.equity, eq, () => h('div'));
    if (eq.data.length < 2) return slots.equity.replaceChildren(stateBox('empty', 'No equity recorded yet (the series starts with the first bars).'));
    const root = h('div');
    slots.equity.replaceChildren(root);
    const currency = balances.state === 'ok' && balances.data.length === 1 ? balances.data[0]?.asset : undefined;
    chart = renderReport(root, equityPayload(eq.data, currency));
    const last = eq.data.reduce((a, b) => (a.ts_ns > b.ts_ns ? a : b));
    const first = eq.data.reduce((a, b) => (a.ts_ns < b.ts_ns ? a : b));
    slots.equity.append(h('p', { class: 'muted' }, `P&L over these points: ${formatNumber(Number(last.equity) - Number(first.equity))}${currency ? ` ${currency}` : ''}.`));
  };

  const loadStrategies = async () => {
    const s = await client.get('/v1/strategies');
    if (disposed) return;
    showLoad(
      slots.strategies,
      s,
      (list) =>
        table(
          'Strategies',
          [
            { label: 'Name', cell: (x: Schemas['StrategyDto']) => h('a', { href: '#/strategies' }, x.name) },
            { label: 'Instrument', cell: (x) => x.instrument },
            { label: 'Status', cell: (x) => h('span', { class: x.status === 'running' ? 'pill ok' : 'pill bad' }, x.status) },
            { label: 'Position', cell: (x) => groupDecimal(x.position), num: true },
            { label: 'Last bar', cell: (x) => time(x.last_bar_ns) },
          ],
          list,
        ),
      { when: (l) => l.length === 0, text: 'This service runs no strategies.' },
    );
  };

  const loadPositions = async () => {
    const p = await client.get('/v1/positions');
    if (disposed) return;
    showLoad(
      slots.positions,
      p,
      (list) =>
        table(
          'Positions',
          [
            { label: 'Instrument', cell: (x: Schemas['PositionDto']) => x.instrument },
            { label: 'Quantity', cell: (x) => groupDecimal(x.quantity), num: true },
            { label: 'Mark', cell: (x) => groupDecimal(x.mark ?? null), num: true },
            { label: 'Unrealised', cell: (x) => groupDecimal(x.unrealized_pnl ?? null), num: true },
            { label: 'Realised', cell: (x) => groupDecimal(x.realized_pnl), num: true },
          ],
          list,
        ),
      { when: (l) => l.length === 0, text: 'No positions.' },
    );
  };

  const orderLine = outcome();
  const loadOrders = async () => {
    const o = await client.get('/v1/orders', { query: { status: 'open', limit: 100 } });
    if (disposed) return;
    showLoad(
      slots.orders,
      o,
      (list) => h('div', {}, table('Open orders', orderColumnsFor(role, (x) => void cancelOrder(client, x, orderLine).then(() => loadOrders())), list, (x) => ({ 'data-order': x.client_order_id })), orderLine),
      { when: (l) => l.length === 0, text: 'No open orders.' },
    );
  };

  const showFills = () =>
    showLoad(slots.fills, { state: 'ok', data: fills } as Load<Fill[]>, (list) => table('Recent fills', fillColumns, list.slice(0, 50), (f) => ({ 'data-order': f.client_order_id, 'data-trade': f.trade_id })), {
      when: (l) => l.length === 0,
      text: 'No fills yet.',
    });
  const loadFills = async () => {
    const f = await client.get('/v1/fills', { query: { limit: 50 } });
    if (disposed) return;
    if (f.state === 'ok') {
      fills = f.data;
      showFills();
    } else showLoad(slots.fills, f, () => h('div'));
  };

  const all = () => Promise.all([loadStatus(), loadKill(), loadEquity(), loadStrategies(), loadPositions(), loadOrders(), loadFills()]);
  const refreshBook = throttle(() => void Promise.all([loadStatus(), loadPositions(), loadOrders(), loadStrategies()]), 500);
  const refreshEquity = throttle(() => void loadEquity(), 5000);
  const showFillsSoon = throttle(showFills, 200);
  const off = ctx.stream?.on({
    message(m) {
      if (m.type === 'fill') {
        const f = streamFill(m);
        if (!fills.some((x) => x.trade_id === f.trade_id && x.client_order_id === f.client_order_id)) fills = [f, ...fills].slice(0, 200);
        showFillsSoon();
        refreshBook();
        refreshEquity();
      } else if (m.type === 'order') refreshBook();
      else if (m.type === 'kill_switch') {
        void loadKill();
        refreshBook();
      }
    },
    resync() {
      void all();
    },
  });
  // Equity is recorded every second whether or not anything trades: redraw it now and then.
  const tick = setInterval(() => {
    void loadStatus();
    void loadEquity();
  }, 30_000);
  void all().then(() => ctx.ready());
  return () => {
    disposed = true;
    clearInterval(tick);
    off?.();
    refreshBook.cancel();
    refreshEquity.cancel();
    showFillsSoon.cancel();
    chart?.dispose();
  };
}
