import { describe, expect, it } from 'vitest';

import { paramLabel, rankTrials, sweepGrid } from './sweep-grid';

describe('sweepGrid', () => {
  const trials = [
    { id: 0, values: [5, 20], objective: 0.5 },
    { id: 1, values: [5, 30], objective: -0.25 },
    { id: 2, values: [10, 20], objective: null },
    { id: 3, values: [10, 30], objective: 1.5 },
  ];

  it('puts each trial in its cell, columns and rows ascending', () => {
    const g = sweepGrid(trials, 0, 1);
    expect(g.xs).toEqual([5, 10]);
    expect(g.ys).toEqual([20, 30]);
    expect(g.cells).toEqual([
      [{ value: 0.5, trial: 0 }, null],
      [{ value: -0.25, trial: 1 }, { value: 1.5, trial: 3 }],
    ]);
    expect(g.scale).toBe(1.5);
  });

  it('swaps the axes', () => {
    const g = sweepGrid(trials, 1, 0);
    expect(g.xs).toEqual([20, 30]);
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
    expect(g.xs).toEqual([1, 3]);
    expect(g.ys).toHaveLength(1);
    expect(g.cells).toEqual([[{ value: 1, trial: 1 }, { value: 2, trial: 0 }]]);
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
