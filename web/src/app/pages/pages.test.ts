import { describe, expect, it } from 'vitest';

import { validatePayload, type ReportPayload } from '../../charts/payload';
import type { Schemas } from '../api';
import { fillMatches, orderCsv, orderMatches, upsertOrder, type Filters } from './orders';
import { equityPayload, orderColumns, orderColumnsFor, riskView, streamFill } from './overview';
import { pointsFor, splitPanels, wantsFiner } from './run';
import { jobText, sweepJobText, sweepStored } from './backtests';
import { dsrVerdict, pboVerdict, periodText } from './sweep';

const order = (id: string, status: string, created: number, side = 'buy'): Schemas['OrderDto'] => ({
  client_order_id: id,
  venue_order_id: null,
  strategy: 's1',
  instrument: 'SPX.SIM',
  side,
  type: 'market',
  quantity: '1',
  price: null,
  trigger_price: null,
  time_in_force: 'GTC',
  status,
  reject_reason: null,
  filled_quantity: '0',
  avg_fill_price: null,
  fees: [],
  origin: 'local',
  created_at_ns: created,
  updated_at_ns: created,
});

describe('overview helpers', () => {
  it('makes a valid equity panel, one point per second, with drawdown from the peak', () => {
    const p = equityPayload(
      [
        { ts_ns: 3e9, equity: '90', cash: '0' },
        { ts_ns: 1e9, equity: '100', cash: '0' },
        { ts_ns: 1.5e9, equity: '120', cash: '0' },
      ],
      'USD',
    );
    const v = validatePayload(p);
    const panel = v.panels[0] as unknown as { time: number[]; equity: number[]; drawdown: number[]; currency: string };
    expect(panel.time).toEqual([1, 3]);
    expect(panel.equity).toEqual([120, 90]);
    expect(panel.drawdown).toEqual([0, -0.25]);
    expect(panel.currency).toBe('USD');
  });
  it('maps a stream fill to the /v1/fills shape', () => {
    const fill = { client_order_id: 'o', venue_order_id: 'v', trade_id: 't', liquidity: 'taker', strategy: 's', instrument: 'X.SIM', side: 'buy', quantity: '1', price: '2', fee: '0.1', fee_asset: 'USD', ts_ns: 5 };
    const f = streamFill({ type: 'fill', ...fill });
    expect(f).toEqual(fill);
    expect('type' in f).toBe(false);
  });
  it('shows rejections by reason when the server sends them', () => {
    const status = { ready: true, reason: null, session: 1, venue: 'SIM', open_orders: 0, kill_switches: [], orders_sent: 3, fills: 2, rejected: 3, last_reconciliation_ns: null } as unknown as Schemas['StatusDto'];
    expect(riskView(status).textContent).toContain('does not break rejections down');
    const rows = riskView({ ...status, rejected_by_reason: { MAX_POSITION: 1, KILL_SWITCH: 2 } } as Schemas['StatusDto']).querySelectorAll('tbody tr');
    expect([...rows].map((r) => r.textContent)).toEqual(['KILL_SWITCH2', 'MAX_POSITION1']);
  });
});

describe('order cancel buttons by role', () => {
  it('a viewer gets no action column; a trader a Cancel button on open orders only', () => {
    expect(orderColumnsFor('viewer', () => {})).toBe(orderColumns);
    const cancelled: string[] = [];
    const cols = orderColumnsFor('trader', (o) => cancelled.push(o.client_order_id));
    const action = cols[cols.length - 1];
    expect(action?.label).toBe('Action');
    const cell = action?.cell(order('o1', 'accepted', 1)) as HTMLButtonElement;
    expect(cell.textContent).toBe('Cancel o1');
    cell.click();
    expect(cancelled).toEqual(['o1']);
    expect(action?.cell(order('o2', 'filled', 1))).toBe('');
    expect(action?.cell(order('o3', 'pending_cancel', 1))).toBe('');
  });
});

describe('orders log', () => {
  const f: Filters = { strategy: '', instrument: '', state: 'open', side: '' };
  it('filters by state groups, status and side', () => {
    expect(orderMatches(order('a', 'accepted', 1), f)).toBe(true);
    expect(orderMatches(order('a', 'filled', 1), f)).toBe(false);
    expect(orderMatches(order('a', 'filled', 1), { ...f, state: 'closed' })).toBe(true);
    expect(orderMatches(order('a', 'filled', 1), { ...f, state: 'filled', side: 'sell' })).toBe(false);
    expect(orderMatches(order('a', 'filled', 1, 'sell'), { ...f, state: '', side: 'sell', strategy: 's1' })).toBe(true);
    expect(fillMatches({ strategy: 's1', instrument: 'SPX.SIM', side: 'buy' } as Schemas['FillDto'], { ...f, side: 'sell' })).toBe(false);
  });
  it('replaces an updated order and keeps newest first', () => {
    const list = upsertOrder([order('a', 'accepted', 1), order('b', 'accepted', 2)], order('a', 'filled', 1));
    expect(list.map((o) => `${o.client_order_id}:${o.status}`)).toEqual(['b:accepted', 'a:filled']);
  });
  it('exports CSV with UTC times', () => {
    expect(orderCsv([order('x,1', 'filled', 1_700_000_000_000_000_000)]).split('\r\n')[1]).toMatch(/^2023-11-14T22:13:20.000Z,"x,1",,s1,SPX.SIM,buy,market,1,,,GTC,filled,,0,,2023/);
  });
});

describe('run page helpers', () => {
  it('asks for the chart width in points, within the API range', () => {
    expect(pointsFor(0)).toBe(1000);
    expect(pointsFor(50)).toBe(100);
    expect(pointsFor(1234.4)).toBe(1234);
    expect(pointsFor(1e6)).toBe(20000);
  });
  it('splits the panels a zoom replaces from the whole run ones', () => {
    const whole = { schema: 1, title: 't', panels: [{ kind: 'equity', id: 'e', title: 'E' }, { kind: 'candles', id: 'c', title: 'C' }, { kind: 'monthly_returns', id: 'm', title: 'M' }, { kind: 'trade_pnl', id: 'p', title: 'P' }] } as ReportPayload;
    const { range, rest } = splitPanels(whole);
    expect(range.panels.map((p) => p.id)).toEqual(['e', 'c']);
    expect(rest.panels.map((p) => p.id)).toEqual(['m', 'p']);
    expect(rest.schema).toBe(1);
  });
  it('asks for finer candles only when zoomed into merged candles', () => {
    const loaded = { from: 0, to: 1000, barsPerCandle: 40 };
    expect(wantsFiner({ from: 0, to: 1000 }, loaded)).toBe(false);
    expect(wantsFiner({ from: 100, to: 900 }, loaded)).toBe(false);
    expect(wantsFiner({ from: 100, to: 500 }, loaded)).toBe(true);
    expect(wantsFiner({ from: 100, to: 500 }, { ...loaded, barsPerCandle: 1 })).toBe(false);
  });
  it('says where a job stands', () => {
    const j = { id: 3, config: 'sample.yaml', name: 'sample', status: 'failed', run_id: null, error: 'bad data', launched_by: 'me', submitted_at_ns: 0 } as Schemas['BacktestJobDto'];
    expect(jobText(j)).toBe('Job 3 (sample.yaml) failed: bad data');
    expect(jobText({ ...j, status: 'succeeded', run_id: 9 })).toBe('Job 3 (sample.yaml): done, stored as run 9.');
  });
  it('says where a sweep job stands, and what of a sweep is stored', () => {
    const j = { id: 4, config: 'sma_spx.yaml', sweep_id: 'x', status: 'running', trials_done: 17, trials_total: 240, error: null, launched_by: 'me', submitted_at_ns: 0 } as Schemas['SweepJobDto'];
    expect(sweepJobText(j)).toBe('Sweep job 4 (sma_spx.yaml as x): running…');
    expect(sweepJobText({ ...j, status: 'succeeded' })).toBe('Sweep job 4 (sma_spx.yaml as x): done, 240 trials stored.');
    expect(sweepJobText({ ...j, status: 'failed', error: 'no data' })).toBe('Sweep job 4 (sma_spx.yaml as x) failed: no data');
    const s = { id: 'x', parameters: ['a'], objective: 'sharpe', returns: { period: 'bar' }, pbo_blocks: 16, total_trials: 10, trials_stored: 5, shard_count: 2, shards_stored: [0], complete: false, updated_at_ns: 0 } as Schemas['SweepDto'];
    expect(sweepStored(s)).toBe('5 of 10 (1/2 shards)');
    expect(sweepStored({ ...s, complete: true, trials_stored: 10, shards_stored: [0, 1] })).toBe('10');
  });
});

describe('sweep page helpers', () => {
  it('names the return period', () => {
    expect(periodText({ period: 'trading_day' })).toBe('trading days');
    expect(periodText({ period: 'bar', bars: null })).toBe('bars');
    expect(periodText({ period: 'bars', bars: 20 })).toBe('blocks of 20 bars');
  });
  it('reads the DSR and the PBO against their usual thresholds', () => {
    expect(dsrVerdict(0.97)).toMatch(/passes the 0.95 bar/);
    expect(dsrVerdict(0.5)).toMatch(/below the 0.95 bar/);
    expect(pboVerdict(0.05)).toMatch(/^low/);
    expect(pboVerdict(0.3)).toMatch(/^moderate/);
    expect(pboVerdict(0.7)).toMatch(/likely overfit/);
  });
});
