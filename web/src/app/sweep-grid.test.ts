import { describe, expect, it } from 'vitest';

import { paramLabel, rankTrials, spanLabel, sweepGrid } from './sweep-grid';

const at = (...vs: number[]) => vs.map((v) => ({ from: v, to: v }));

describe('sweepGrid', () => {
  const trials = [
    { id: 0, values: [5, 20], objective: 0.5 },
    { id: 1, values: [5, 30], objective: -0.25 },
    { id: 2, values: [10, 20], objective: null },
    { id: 3, values: [10, 30], objective: 1.5 },
  ];

  it('puts each trial in its cell, columns and rows ascending', () => {
    const g = sweepGrid(trials, 0, 1);
    expect(g.xs).toEqual(at(5, 10));
    expect(g.ys).toEqual(at(20, 30));
    expect(g.cells).toEqual([
      [{ value: 0.5, trial: 0 }, null],
      [{ value: -0.25, trial: 1 }, { value: 1.5, trial: 3 }],
    ]);
    expect(g.scale).toBe(1.5);
  });

  it('swaps the axes', () => {
    const g = sweepGrid(trials, 1, 0);
    expect(g.xs).toEqual(at(20, 30));
    expect(g.cells[1]).toEqual([null, { value: 1.5, trial: 3 }]);
  });

  it('keeps the best over the other parameters, the lower id on a tie', () => {
    const three = [
      { id: 0, values: [1, 1, 1], objective: 0.1 },
      { id: 1, values: [1, 1, 2], objective: 0.9 },
      { id: 2, values: [1, 1, 3], objective: 0.9 },
      { id: 3, values: [2, 1, 1], objective: Number.NaN },
    ];
    const g = sweepGrid(three, 0, 1);
    expect(g.cells).toEqual([[{ value: 0.9, trial: 1 }, null]]);
  });

  it('draws one row for one parameter', () => {
    const g = sweepGrid([{ id: 0, values: [3], objective: 2 }, { id: 1, values: [1], objective: 1 }], 0, null);
    expect(g.xs).toEqual(at(1, 3));
    expect(g.ys).toHaveLength(1);
    expect(g.cells).toEqual([[{ value: 1, trial: 1 }, { value: 2, trial: 0 }]]);
  });

  it('groups a long axis into runs of neighbouring values, each cell the best of its run', () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({ id: i, values: [i, 0], objective: i === 7 ? 9 : i / 1000 }));
    const g = sweepGrid(many, 0, 1, 60);
    expect(g.xs).toHaveLength(60);
    expect(g.xs[0]).toEqual({ from: 0, to: 15 });
    expect(g.xs[59]).toEqual({ from: 983, to: 999 });
    expect(g.cells[0]?.[0]).toEqual({ value: 9, trial: 7 });
    expect(g.cells[0]?.[59]).toEqual({ value: 0.999, trial: 999 });
    expect(spanLabel(g.xs[0] as { from: number; to: number })).toBe('0–15');
    expect(spanLabel({ from: 5, to: 5 })).toBe('5');
  });

  it('has a scale above zero when every value is zero or missing', () => {
    expect(sweepGrid([{ id: 0, values: [1, 1], objective: null }], 0, 1).scale).toBeGreaterThan(0);
  });
});

describe('paramLabel and rankTrials', () => {
  it('labels values', () => {
    expect(paramLabel(20)).toBe('20');
    expect(paramLabel(0.1 + 0.2)).toBe('0.3');
    expect(paramLabel(Number.NaN)).toBe('');
  });

  it('ranks best first, undefined last, ties by id', () => {
    const ranked = rankTrials([
      { id: 3, values: [], objective: null },
      { id: 2, values: [], objective: 1 },
      { id: 1, values: [], objective: 1 },
      { id: 0, values: [], objective: 2 },
    ]);
    expect(ranked.map((t) => t.id)).toEqual([0, 1, 2, 3]);
  });
});
