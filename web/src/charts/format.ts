// Number formatting for legends, axes and tables: fixed decimals, thin grouping, a real minus
// sign, and never "-0.00".

const MINUS = '\u2212';

/** Decimals needed to write every value in `values` exactly, up to `max` (float noise ignored). */
export function decimalsOf(values: Iterable<number>, max = 8): number {
  let d = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    while (d < max) {
      const scaled = v * 10 ** d;
      if (Math.abs(scaled - Math.round(scaled)) <= Math.max(1e-6, Math.abs(scaled) * 1e-12)) break;
      d++;
    }
    if (d === max) break;
  }
  return d;
}

/** `v` with `decimals` decimals and thousands separators: `1,234,567.89`, `−0.50`. */
export function formatNumber(v: number, decimals: number): string {
  if (!Number.isFinite(v)) return '–';
  const text = Math.abs(v).toLocaleString('en-US', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
  const zero = /^[0.,]*$/.test(text);
  return v < 0 && !zero ? MINUS + text : text;
}

/** A signed amount: `+1,234.50`, `−80.00`. */
export function formatSigned(v: number, decimals: number): string {
  const text = formatNumber(v, decimals);
  return v > 0 && !/^[0.,]*$/.test(text) ? `+${text}` : text;
}

/** A fraction as a percentage: 0.0523 → `5.23%`. */
export function formatPercent(fraction: number, decimals = 2): string {
  return `${formatNumber(fraction * 100, decimals)}%`;
}

/** A compact count or amount: 1,200,000 → `1.2M`, 950,000 → `950k`. */
export function formatCompact(v: number): string {
  const a = Math.abs(v);
  const [div, suffix] = a >= 1e9 ? [1e9, 'B'] : a >= 1e6 ? [1e6, 'M'] : a >= 1e4 ? [1e3, 'k'] : [1, ''];
  const scaled = v / div;
  const decimals = suffix === '' ? decimalsOf([v], 2) : Math.abs(scaled) >= 100 ? 0 : 1;
  return formatNumber(scaled, decimals) + suffix;
}
