// From the payload's columns to lightweight-charts data. The library needs strictly increasing
// times; the payload is in whole UTC seconds, so sub-second bars (or several trades closed in
// one second) can share a time. Points that share a second are merged here, never dropped:
// candles by OHLC rules, line points by keeping the last value, histogram values by summing.

export interface Point {
  time: number;
  value: number;
}

export interface Ohlc {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

/** Line points; `null` values (an indicator's warm-up) are skipped, equal times keep the last. */
export function linePoints(time: readonly number[], value: ReadonlyArray<number | null>): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < time.length; i++) {
    const v = value[i];
    const t = time[i] as number;
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    const last = out[out.length - 1];
    if (last && t <= last.time) {
      if (t === last.time) last.value = v;
      continue;
    }
    out.push({ time: t, value: v });
  }
  return out;
}

/** Histogram points: values at the same time are summed; `counts` says how many each holds. */
export function summedPoints(
  time: readonly number[],
  value: readonly number[],
): { points: Point[]; counts: number[] } {
  const points: Point[] = [];
  const counts: number[] = [];
  for (let i = 0; i < time.length; i++) {
    const t = time[i] as number;
    const v = value[i] as number;
    const last = points[points.length - 1];
    if (last && t <= last.time) {
      last.value += v;
      counts[counts.length - 1] = (counts[counts.length - 1] as number) + 1;
      continue;
    }
    points.push({ time: t, value: v });
    counts.push(1);
  }
  return { points, counts };
}

/** Candles; candles in the same second merge (first open, highest high, lowest low, last close). */
export function candles(
  time: readonly number[],
  open: readonly number[],
  high: readonly number[],
  low: readonly number[],
  close: readonly number[],
): Ohlc[] {
  const out: Ohlc[] = [];
  for (let i = 0; i < time.length; i++) {
    const t = time[i] as number;
    const last = out[out.length - 1];
    if (last && t <= last.time) {
      last.high = Math.max(last.high, high[i] as number);
      last.low = Math.min(last.low, low[i] as number);
      last.close = close[i] as number;
      continue;
    }
    out.push({ time: t, open: open[i] as number, high: high[i] as number, low: low[i] as number, close: close[i] as number });
  }
  return out;
}

/** Index of the last element of ascending `times` that is ≤ `t` (−1 when none). */
export function floorIndex(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** First index of ascending `xs` whose value is ≥ `x`. */
export function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((xs[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Histogram bins of `values` with round-number edges (one at 0 when values straddle it). */
export function bins(values: readonly number[], target?: number): { edges: number[]; counts: number[] } {
  if (values.length === 0) return { edges: [], counts: [] };
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const want = target ?? Math.min(50, Math.max(8, Math.ceil(2 * Math.sqrt(values.length))));
  const range = Math.max(hi, 0) - Math.min(lo, 0) || Math.abs(hi) || 1;
  const raw = range / want;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const start = Math.floor(lo / step) * step;
  const count = Math.max(1, Math.floor((hi - start) / step) + 1);
  const edges = Array.from({ length: count + 1 }, (_, i) => start + i * step);
  const counts = new Array<number>(count).fill(0);
  for (const v of values) {
    const i = Math.min(count - 1, Math.floor((v - start) / step));
    counts[i] = (counts[i] as number) + 1;
  }
  return { edges, counts };
}
