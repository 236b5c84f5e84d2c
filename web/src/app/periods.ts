// Per-strategy P&L and its day / week / month breakdown, computed in the browser from the fills
// the API returned (GET /v1/fills, the newest N) and from the account's equity series
// (GET /v1/equity). Realised P&L is by average cost per strategy and instrument, net of fees
// (fees are taken as quote-currency amounts); unrealised P&L of open positions is not in it.
// Amounts are floats here (display only); the API's decimal strings stay the truth.

import { partsIn } from '../charts/time';

export type Period = 'day' | 'week' | 'month';

export interface FillLike {
  strategy: string;
  instrument: string;
  side: string;
  quantity: string;
  price: string;
  fee: string;
  ts_ns: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The period `utcSeconds` falls in, in `timeZone`: `2024-03-05`, `2024-W10` (ISO week), `2024-03`. */
export function periodKey(utcSeconds: number, period: Period, timeZone: string): string {
  const p = partsIn(utcSeconds, timeZone);
  if (period === 'day') return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
  if (period === 'month') return `${p.year}-${pad(p.month)}`;
  // ISO 8601 week of the local date: the week with its Thursday in the year.
  const date = new Date(Date.UTC(p.year, p.month - 1, p.day));
  const weekday = (date.getUTCDay() + 6) % 7; // Monday 0
  date.setUTCDate(date.getUTCDate() - weekday + 3);
  const year = date.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(year, 0, 4));
  firstThursday.setUTCDate(firstThursday.getUTCDate() - ((firstThursday.getUTCDay() + 6) % 7) + 3);
  const week = 1 + Math.round((date.getTime() - firstThursday.getTime()) / (7 * 86400000));
  return `${year}-W${pad(week)}`;
}

export interface RealisedFill {
  fill: FillLike;
  /** Realised P&L of this fill net of its fee. */
  pnl: number;
}

/** Average-cost realised P&L of every fill, oldest first (the input may come newest first). */
export function realise(fills: readonly FillLike[]): RealisedFill[] {
  const sorted = [...fills].sort((a, b) => a.ts_ns - b.ts_ns);
  const books = new Map<string, { qty: number; avg: number }>();
  return sorted.map((fill) => {
    const key = `${fill.strategy}\u0000${fill.instrument}`;
    const book = books.get(key) ?? { qty: 0, avg: 0 };
    const q = Number(fill.quantity) * (fill.side === 'sell' ? -1 : 1);
    const price = Number(fill.price);
    let gross = 0;
    if (book.qty !== 0 && Math.sign(q) !== Math.sign(book.qty)) {
      const closed = Math.min(Math.abs(q), Math.abs(book.qty));
      gross = closed * (price - book.avg) * Math.sign(book.qty);
      const rest = book.qty + q;
      if (Math.sign(rest) === Math.sign(book.qty) || rest === 0) book.qty = rest;
      else book.qty = rest, book.avg = price; // flipped: the remainder opens at this price
      if (book.qty === 0) book.avg = 0;
    } else {
      const qty = book.qty + q;
      book.avg = (book.avg * Math.abs(book.qty) + price * Math.abs(q)) / Math.abs(qty);
      book.qty = qty;
    }
    books.set(key, book);
    return { fill, pnl: gross - (Number(fill.fee) || 0) };
  });
}

export interface PeriodRow {
  period: string;
  /** Realised P&L net of fees per strategy in that period. */
  byStrategy: Record<string, number>;
  total: number;
  fills: number;
}

/** Realised P&L by period (newest period first) and per strategy. */
export function breakdown(fills: readonly FillLike[], period: Period, timeZone: string): PeriodRow[] {
  const rows = new Map<string, PeriodRow>();
  for (const { fill, pnl } of realise(fills)) {
    const key = periodKey(fill.ts_ns / 1e9, period, timeZone);
    const row = rows.get(key) ?? { period: key, byStrategy: {}, total: 0, fills: 0 };
    row.byStrategy[fill.strategy] = (row.byStrategy[fill.strategy] ?? 0) + pnl;
    row.total += pnl;
    row.fills++;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => (a.period < b.period ? 1 : -1));
}

/** Realised P&L net of fees and fill count per strategy. */
export function strategyPnl(fills: readonly FillLike[]): Map<string, { pnl: number; fills: number }> {
  const out = new Map<string, { pnl: number; fills: number }>();
  for (const { fill, pnl } of realise(fills)) {
    const s = out.get(fill.strategy) ?? { pnl: 0, fills: 0 };
    s.pnl += pnl;
    s.fills++;
    out.set(fill.strategy, s);
  }
  return out;
}

export interface EquityLike {
  ts_ns: number;
  equity: string;
}

/** Change of account equity per period (last point of the period minus the last point before it). */
export function equityChanges(points: readonly EquityLike[], period: Period, timeZone: string): Array<{ period: string; change: number; end: number }> {
  const sorted = [...points].sort((a, b) => a.ts_ns - b.ts_ns);
  const out: Array<{ period: string; change: number; end: number }> = [];
  let previous: number | null = null;
  let current: { period: string; start: number; end: number } | null = null;
  for (const p of sorted) {
    const v = Number(p.equity);
    const key = periodKey(p.ts_ns / 1e9, period, timeZone);
    if (!current || current.period !== key) {
      if (current) {
        out.push({ period: current.period, change: current.end - current.start, end: current.end });
        previous = current.end;
      }
      current = { period: key, start: previous ?? v, end: v };
    } else current.end = v;
  }
  if (current) out.push({ period: current.period, change: current.end - current.start, end: current.end });
  return out.reverse();
}
