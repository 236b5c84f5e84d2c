// A sweep's parameter heatmap as data: the objective over two chosen parameters, each cell the
// best value over the other parameters (a grid of three parameters shows, for each pair, the
// best the third could make of it). Cells no trial reached, or whose trials all failed, are null.
// An axis of more than MAX_SPANS values groups neighbouring ones, so a 1000 × 1000 grid is drawn
// as 60 × 60 cells, each the best of its group.

/** What the heatmap needs of a trial (`SweepTrialDto`). */
export interface GridTrial {
  id: number;
  values: number[];
  objective?: number | null;
}

/** A column or row: one parameter value, or (a long axis grouped) a run of neighbouring ones. */
export interface Span {
  from: number;
  to: number;
}

export interface Grid {
  /** The columns, ascending. */
  xs: Span[];
  /** The rows, ascending (one row, spanning `NaN`, for a one-parameter sweep). */
  ys: Span[];
  /** `cells[row][column]`: the best objective there and the trial that reached it. */
  cells: ({ value: number; trial: number } | null)[][];
  /** The largest |value| of the grid (the colour scale), at least 1e-9. */
  scale: number;
}

/** Most columns or rows drawn: a longer axis groups neighbouring values (a table cell each). */
export const MAX_SPANS = 60;

/** The axis of `values`: each distinct value, or at most `max` runs of them. */
function axis(values: number[], max: number): { spans: Span[]; index: Map<number, number> } {
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  const groups = Math.min(max, distinct.length);
  const spans: Span[] = [];
  const index = new Map<number, number>();
  for (let g = 0; g < groups; g++) {
    const first = Math.floor((g * distinct.length) / groups);
    const last = Math.floor(((g + 1) * distinct.length) / groups) - 1;
    spans.push({ from: distinct[first] as number, to: distinct[last] as number });
    for (let i = first; i <= last; i++) index.set(distinct[i] as number, g);
  }
  return { spans, index };
}

/**
 * The grid of `trials` with parameter `x` on the columns and `y` on the rows (indices into each
 * trial's `values`; `y` null for one row), each axis at most `max` long.
 */
export function sweepGrid(trials: readonly GridTrial[], x: number, y: number | null, max = MAX_SPANS): Grid {
  const cols = axis(trials.map((t) => t.values[x] as number), max);
  const rows = y === null ? { spans: [{ from: Number.NaN, to: Number.NaN }], index: null } : axis(trials.map((t) => t.values[y] as number), max);
  const cells: Grid['cells'] = rows.spans.map(() => cols.spans.map(() => null));
  let scale = 1e-9;
  for (const t of trials) {
    const v = t.objective;
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    const c = cols.index.get(t.values[x] as number);
    const r = y === null || rows.index === null ? 0 : rows.index.get(t.values[y] as number);
    if (c === undefined || r === undefined) continue;
    const line = cells[r] as Grid['cells'][number];
    const held = line[c];
    // The best value; equal values keep the lower trial id, as the ranking does.
    if (!held || v > held.value || (v === held.value && t.id < held.trial)) line[c] = { value: v, trial: t.id };
    scale = Math.max(scale, Math.abs(v));
  }
  return { xs: cols.spans, ys: rows.spans, cells, scale };
}

/** A span as a label: `20`, or `20–45` for a run of values. */
export function spanLabel(s: Span): string {
  return s.from === s.to || Number.isNaN(s.from) ? paramLabel(s.from) : `${paramLabel(s.from)}–${paramLabel(s.to)}`;
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
