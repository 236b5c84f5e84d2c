import { describe, expect, it } from 'vitest';

import { bins, candles, floorIndex, linePoints, lowerBound, summedPoints } from './series';

describe('series for the chart library', () => {
  it('line points skip warm-up nulls and keep the last value of a repeated second', () => {
    expect(linePoints([1, 2, 2, 3, 4], [null, 5, 6, null, 8])).toEqual([
      { time: 2, value: 6 },
      { time: 4, value: 8 },
    ]);
  });

  it('sums histogram values that share a time and counts them', () => {
    const { points, counts } = summedPoints([5, 5, 7], [1, -3, 2]);
    expect(points).toEqual([
      { time: 5, value: -2 },
      { time: 7, value: 2 },
    ]);
    expect(counts).toEqual([2, 1]);
  });

  it('merges candles of one second by OHLC rules', () => {
    const c = candles([1, 1, 2], [10, 11, 12], [12, 15, 13], [9, 8, 11], [11, 12, 12.5]);
    expect(c).toEqual([
      { time: 1, open: 10, high: 15, low: 8, close: 12 },
      { time: 2, open: 12, high: 13, low: 11, close: 12.5 },
    ]);
  });

  it('finds the last time at or before a time', () => {
    const times = [10, 20, 30];
    expect(floorIndex(times, 5)).toBe(-1);
    expect(floorIndex(times, 10)).toBe(0);
    expect(floorIndex(times, 29)).toBe(1);
    expect(floorIndex(times, 99)).toBe(2);
  });

  it('bins cover every value with round edges and one at zero', () => {
    const values = [-120, -5, 0, 3, 40, 250];
    const { edges, counts } = bins(values);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(values.length);
    expect(edges[0]).toBeLessThanOrEqual(-120);
    expect(edges[edges.length - 1]).toBeGreaterThanOrEqual(250);
    expect(edges).toContain(0);
    expect(bins([])).toEqual({ edges: [], counts: [] });
    expect(bins([7, 7, 7]).counts.reduce((a, b) => a + b, 0)).toBe(3);
  });
});

describe('marker windows', () => {
  it('finds the first index at or above a value', () => {
    expect(lowerBound([1, 3, 3, 7], 3)).toBe(1);
    expect(lowerBound([1, 3, 3, 7], 4)).toBe(3);
    expect(lowerBound([1, 3, 3, 7], 0)).toBe(0);
    expect(lowerBound([1, 3, 3, 7], 8)).toBe(4);
  });
});
