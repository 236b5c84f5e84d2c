import { describe, expect, it } from 'vitest';

import { breakdown, equityChanges, periodKey, realise, strategyPnl, type FillLike } from './periods';

const at = (iso: string) => Date.parse(iso) * 1e6;
const fill = (strategy: string, side: string, quantity: string, price: string, fee: string, iso: string): FillLike => ({
  strategy,
  instrument: 'X.SIM',
  side,
  quantity,
  price,
  fee,
  ts_ns: at(iso),
});

describe('period keys', () => {
  it('uses the local date, ISO weeks and months', () => {
    // 2024-01-01 03:00 UTC is still 2023-12-31 in New York.
    const s = Date.parse('2024-01-01T03:00:00Z') / 1000;
    expect(periodKey(s, 'day', 'UTC')).toBe('2024-01-01');
    expect(periodKey(s, 'day', 'America/New_York')).toBe('2023-12-31');
    expect(periodKey(s, 'month', 'America/New_York')).toBe('2023-12');
    expect(periodKey(s, 'week', 'UTC')).toBe('2024-W01');
    // 2021-01-03 (a Sunday) belongs to ISO week 53 of 2020.
    expect(periodKey(Date.parse('2021-01-03T12:00:00Z') / 1000, 'week', 'UTC')).toBe('2020-W53');
  });
});

describe('realised P&L by average cost, net of fees', () => {
  const fills = [
    fill('a', 'buy', '2', '100', '1', '2024-03-04T10:00:00Z'),
    fill('a', 'buy', '2', '110', '1', '2024-03-05T10:00:00Z'), // avg 105
    fill('a', 'sell', '3', '120', '1', '2024-03-12T10:00:00Z'), // +45 - 1
    fill('b', 'sell', '1', '50', '0.5', '2024-04-01T10:00:00Z'), // short 1 @ 50
    fill('b', 'buy', '1', '40', '0.5', '2024-04-02T10:00:00Z'), // +10 - 0.5
  ];
  it('books each fill', () => {
    expect(realise([...fills].reverse()).map((r) => r.pnl)).toEqual([-1, -1, 44, -0.5, 9.5]);
    expect(Object.fromEntries(strategyPnl(fills))).toEqual({ a: { pnl: 42, fills: 3 }, b: { pnl: 9, fills: 2 } });
  });
  it('flips a position through zero at the fill price', () => {
    const r = realise([fill('a', 'buy', '1', '10', '0', '2024-01-01T00:00:00Z'), fill('a', 'sell', '3', '12', '0', '2024-01-02T00:00:00Z'), fill('a', 'buy', '2', '11', '0', '2024-01-03T00:00:00Z')]);
    expect(r.map((x) => x.pnl)).toEqual([0, 2, 2]);
  });
  it('sums by day, week and month, newest first', () => {
    expect(breakdown(fills, 'month', 'UTC')).toEqual([
      { period: '2024-04', byStrategy: { b: 9 }, total: 9, fills: 2 },
      { period: '2024-03', byStrategy: { a: 42 }, total: 42, fills: 3 },
    ]);
    expect(breakdown(fills, 'week', 'UTC').map((r) => [r.period, r.total])).toEqual([
      ['2024-W14', 9],
      ['2024-W11', 44],
      ['2024-W10', -2],
    ]);
    expect(breakdown(fills, 'day', 'UTC')).toHaveLength(5);
  });
});

describe('equity change per period', () => {
  it('takes each period from the previous period end', () => {
    const pts = [
      { ts_ns: at('2024-03-30T00:00:00Z'), equity: '100' },
      { ts_ns: at('2024-03-31T00:00:00Z'), equity: '110' },
      { ts_ns: at('2024-04-10T00:00:00Z'), equity: '105' },
      { ts_ns: at('2024-04-20T00:00:00Z'), equity: '120' },
    ];
    expect(equityChanges(pts, 'month', 'UTC')).toEqual([
      { period: '2024-04', change: 10, end: 120 },
      { period: '2024-03', change: 10, end: 110 },
    ]);
  });
});
