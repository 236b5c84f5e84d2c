import { describe, expect, it } from 'vitest';

import { decimalsOf, formatCompact, formatNumber, formatPercent, formatSigned } from './format';

describe('number formatting', () => {
  it('groups thousands, uses a real minus and never shows −0', () => {
    expect(formatNumber(1234567.891, 2)).toBe('1,234,567.89');
    expect(formatNumber(-0.5, 2)).toBe('\u22120.50');
    expect(formatNumber(-0.001, 2)).toBe('0.00');
    expect(formatNumber(Number.NaN, 2)).toBe('–');
  });

  it('signs amounts and percentages', () => {
    expect(formatSigned(12.5, 2)).toBe('+12.50');
    expect(formatSigned(-3, 1)).toBe('\u22123.0');
    expect(formatSigned(0, 2)).toBe('0.00');
    expect(formatPercent(0.05234)).toBe('5.23%');
    expect(formatPercent(-0.5, 1)).toBe('\u221250.0%');
  });

  it('finds the decimals prices are written with', () => {
    expect(decimalsOf([100, 101.5, 99.25])).toBe(2);
    expect(decimalsOf([1229.23, 0.1 + 0.2])).toBe(2);
    expect(decimalsOf([1, 2, 3])).toBe(0);
    expect(decimalsOf([Math.PI], 8)).toBe(8);
  });

  it('compacts large numbers', () => {
    expect(formatCompact(1_200_000)).toBe('1.2M');
    expect(formatCompact(950_000)).toBe('950k');
    expect(formatCompact(4129)).toBe('4,129');
  });
});

describe('price decimals', async () => {
  const { priceDecimals } = await import('./candles');
  it('shows the decimals prices have, up to six significant digits', () => {
    expect(priceDecimals([2498.939941, 2509.239990])).toBe(2);
    expect(priceDecimals([1.08345, 1.0835])).toBe(5);
    expect(priceDecimals([100, 101])).toBe(2);
    expect(priceDecimals([0.00012345])).toBe(8);
    expect(priceDecimals([])).toBe(2);
  });
});
