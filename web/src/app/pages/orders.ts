// Orders & fills log: filters (strategy, instrument, state, side; strategy, instrument and state
// go to the API, side is applied here), live updates, and a CSV export of what is loaded and
// shown.

import type { Schemas } from '../api';
import { button, card, h, showLoad, stateBox, table } from '../dom';
import { download, toCsv } from '../csv';
import { throttle, type Cleanup, type PageContext } from './context';
import { cancelOrder, fillColumns, orderColumnsFor, streamFill } from './overview';
import { outcome } from '../dom';

type Order = Schemas['OrderDto'];
type Fill = Schemas['FillDto'];

export interface Filters {
  strategy: string;
  instrument: string;
  /** '' (all), `open`, `closed` or a status name. */
  state: string;
  side: string;
}

export const STATES = ['open', 'closed', 'refused', 'submitted', 'accepted', 'triggered', 'partially_filled', 'pending_cancel', 'filled', 'canceled', 'expired', 'rejected'];
const OPEN = new Set(['submitted', 'accepted', 'triggered', 'partially_filled', 'pending_cancel']);

export function orderMatches(o: Order, f: Filters): boolean {
  if (f.strategy && o.strategy !== f.strategy) return false;
  if (f.instrument && o.instrument !== f.instrument) return false;
  if (f.side && o.side !== f.side) return false;
  if (f.state === 'open') return OPEN.has(o.status);
  if (f.state === 'closed') return !OPEN.has(o.status);
  return !f.state || o.status === f.state;
}

export function fillMatches(x: Fill, f: Filters): boolean {
  return (!f.strategy || x.strategy === f.strategy) && (!f.instrument || x.instrument === f.instrument) && (!f.side || x.side === f.side);
}

/** `o` put in `list` (newest created first), replacing the same order. */
export function upsertOrder(list: Order[], o: Order): Order[] {
  const rest = list.filter((x) => x.client_order_id !== o.client_order_id);
  return [o, ...rest].sort((a, b) => b.created_at_ns - a.created_at_ns);
}

export const orderCsv = (orders: readonly Order[]) =>
  toCsv(
    ['created_at_utc', 'client_order_id', 'venue_order_id', 'strategy', 'instrument', 'side', 'type', 'quantity', 'price', 'trigger_price', 'time_in_force', 'status', 'reject_reason', 'filled_quantity', 'avg_fill_price', 'updated_at_utc'],
    orders.map((o) => [new Date(o.created_at_ns / 1e6).toISOString(), o.client_order_id, o.venue_order_id, o.strategy, o.instrument, o.side, o.type, o.quantity, o.price, o.trigger_price, o.time_in_force, o.status, o.reject_reason, o.filled_quantity, o.avg_fill_price, new Date(o.updated_at_ns / 1e6).toISOString()]),
  );

export const fillCsv = (fills: readonly Fill[]) =>
  toCsv(
    ['time_utc', 'client_order_id', 'trade_id', 'strategy', 'instrument', 'side', 'quantity', 'price', 'fee', 'fee_asset'],
    fills.map((f) => [new Date(f.ts_ns / 1e6).toISOString(), f.client_order_id, f.trade_id, f.strategy, f.instrument, f.side, f.quantity, f.price, f.fee, f.fee_asset]),
  );

const LIMIT = 1000;

export function orders(ctx: PageContext): Cleanup {
  const { client } = ctx.session;
  const filters: Filters = { strategy: '', instrument: '', state: '', side: '' };
  const ordersHost = h('div');
  const line = outcome();
  const fillsHost = h('div');
  let orderList: Order[] = [];
  let fillList: Fill[] = [];
  let disposed = false;

  const select = (id: string, label: string, options: Array<[string, string]>, key: keyof Filters) => {
    const s = h('select', { id, name: key }, ...options.map(([v, t]) => h('option', { value: v }, t)));
    s.addEventListener('change', () => {
      filters[key] = s.value;
      void load();
    });
    return h('div', { class: 'field' }, h('label', { for: id }, label), s);
  };
  const filterBar = h('form', { class: 'filters', 'aria-label': 'Filters', onsubmit: (e: Event) => e.preventDefault() });

  const showOrders = () => {
    const shown = orderList.filter((o) => orderMatches(o, filters));
    showLoad(
      ordersHost,
      { state: 'ok', data: shown },
      (list) => h('div', {}, h('div', { class: 'row' }, h('span', { class: 'muted' }, `${list.length} orders (newest first, at most ${LIMIT} loaded).`), button('Export orders CSV', () => download(document, 'orders.csv', orderCsv(list)))), table('Orders', orderColumnsFor(ctx.session.role, (x) => void cancelOrder(client, x, line).then(() => load())), list, (o) => ({ 'data-order': o.client_order_id }), true), line),
      { when: (l) => l.length === 0, text: 'No orders match.' },
    );
  };
  const showFills = () => {
    const shown = fillList.filter((f) => fillMatches(f, filters));
    showLoad(
      fillsHost,
      { state: 'ok', data: shown },
      (list) => h('div', {}, h('div', { class: 'row' }, h('span', { class: 'muted' }, `${list.length} fills (newest first, of the last ${LIMIT}).`), button('Export fills CSV', () => download(document, 'fills.csv', fillCsv(list)))), table('Fills', fillColumns, list, (f) => ({ 'data-order': f.client_order_id }), true)),
      { when: (l) => l.length === 0, text: 'No fills match.' },
    );
  };

  const load = async () => {
    ordersHost.replaceChildren(stateBox('loading', 'Loading orders…'));
    fillsHost.replaceChildren(stateBox('loading', 'Loading fills…'));
    const [o, f] = await Promise.all([
      client.get('/v1/orders', { query: { strategy: filters.strategy || undefined, instrument: filters.instrument || undefined, status: filters.state || undefined, limit: LIMIT } }),
      client.get('/v1/fills', { query: { limit: LIMIT } }),
    ]);
    if (disposed) return;
    if (o.state === 'ok') (orderList = o.data), showOrders();
    else showLoad(ordersHost, o, () => h('div'));
    if (f.state === 'ok') (fillList = f.data), showFills();
    else showLoad(fillsHost, f, () => h('div'));
  };

  const init = async () => {
    const s = await client.get('/v1/strategies');
    if (disposed) return;
    const strategies = s.state === 'ok' ? s.data : [];
    const instruments = [...new Set(strategies.map((x) => x.instrument))].sort();
    filterBar.replaceChildren(
      select('f-strategy', 'Strategy', [['', 'all'], ...strategies.map((x): [string, string] => [x.name, x.name]), ['api', 'api (manual)'], ['external', 'external']], 'strategy'),
      select('f-instrument', 'Instrument', [['', 'all'], ...instruments.map((i): [string, string] => [i, i])], 'instrument'),
      select('f-state', 'State', [['', 'all'], ...STATES.map((x): [string, string] => [x, x.replace('_', ' ')])], 'state'),
      select('f-side', 'Side', [['', 'both'], ['buy', 'buy'], ['sell', 'sell']], 'side'),
    );
    await load();
  };

  ctx.main.replaceChildren(h('h1', {}, 'Orders & fills'), filterBar, card('Orders', ordersHost), card('Fills', fillsHost));
  const again = throttle(() => {
    showOrders();
    showFills();
  }, 250);
  const off = ctx.stream?.on({
    message(m) {
      if (m.type === 'order') {
        orderList = upsertOrder(orderList, m.order).slice(0, LIMIT);
        again();
      } else if (m.type === 'fill') {
        const f = streamFill(m);
        if (!fillList.some((x) => x.trade_id === f.trade_id && x.client_order_id === f.client_order_id)) fillList = [f, ...fillList].slice(0, LIMIT);
        again();
      }
    },
    resync: () => void load(),
  });
  void init().then(() => ctx.ready());
  return () => {
    disposed = true;
    again.cancel();
    off?.();
  };
}
