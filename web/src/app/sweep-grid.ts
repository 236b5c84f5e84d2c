// A sweep's parameter heatmap as data: the objective over two chosen parameters, each cell the
// best value over the other parameters (a grid of three parameters shows, for each pair, the
// best the third could make of it). Cells no trial reached, or whose trials all failed, are null.

/** What the heatmap needs of a trial (`SweepTrialDto`). */
export interface GridTrial {
  id: number;
  values: number[];
  objective?: number | null;
}

export interface Grid {
  /** Distinct values of the column parameter, ascending. */
  xs: number[];
  /** Distinct values of the row parameter, ascending (one row, `[NaN]`, for a one-parameter sweep). */
  ys: number[];
  /** `cells[row][column]`: the best objective there and the trial that reached it. */
  cells: ({ value: number; trial: number } | null)[][];
  /** The largest |value| of the grid (the colour scale), at least 1e-9. */
  scale: number;
}

const distinct = (vs: number[]) => [...new Set(vs)].sort((a, b) => a - b);

/**
 * The grid of `trials` with parameter `x` on the columns and `y` on the rows (indices into each
 * trial's `values`; `y` null for one row).
 */
export function sweepGrid(trials: readonly GridTrial[], x: number, y: number | null): Grid {
  const xs = distinct(trials.map((t) => t.values[x] as number));
  const ys = y === null ? [Number.NaN] : distinct(trials.map((t) => t.values[y] as number));
  const col = new Map(xs.map((v, i) => [v, i]));
  const row = new Map(ys.map((v, i) => [v, i]));
  const cells: Grid['cells'] = ys.map(() => xs.map(() => null));
  let scale = 1e-9;
  for (const t of trials) {
    const v = t.objective;
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    const c = col.get(t.values[x] as number);
    const r = y === null ? 0 : row.get(t.values[y] as number);
    if (c === undefined || r === undefined) continue;
    const line = cells[r] as Grid['cells'][number];
    const held = line[c];
    // The best value; equal values keep the lower trial id, as the ranking does.
    if (!held || v > held.value || (v === held.value && t.id < held.trial)) line[c] = { value: v, trial: t.id };
    scale = Math.max(scale, Math.abs(v));
  }
  return { xs, ys, cells, scale };
}

/** A parameter value as a label: integers plain, others with up to 6 significant digits. */
export function paramLabel(v: number): string {
  if (Number.isNaN(v)) return '';
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

/** Trials ranked by objective, best first; trials without one last; ties by id. */
export function rankTrials<T extends GridTrial>(trials: readonly T[]): T[] {
  const key = (t: T) => (t.objective === null || t.objective === undefined || !Number.isFinite(t.objective) ? null : t.objective);
  return [...trials].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka !== null && kb !== null) return kb - ka || a.id - b.id;
    if (ka !== null) return -1;
    if (kb !== null) return 1;
    return a.id - b.id;
  });
}
