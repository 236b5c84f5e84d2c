import { describe, expect, it } from 'vitest';

import { formatNs, formatPercent, groupDecimal, timeElement } from './format';

describe('time formatting', () => {
  const ns = Date.UTC(2024, 6, 1, 13, 30, 5) * 1e6; // 2024-07-01 13:30:05 UTC
  it('shows the user zone with UTC on hover', () => {
    expect(formatNs(ns, 'America/New_York')).toEqual({ text: '2024-07-01 09:30:05', title: 'UTC 2024-07-01 13:30:05' });
    expect(formatNs(ns, 'Asia/Tokyo').text).toBe('2024-07-01 22:30:05');
    expect(formatNs(Date.UTC(2024, 0, 15, 12) * 1e6, 'America/New_York').text).toBe('2024-01-15 07:00:00');
  });
  it('has a dash for no time', () => {
    expect(formatNs(null)).toEqual({ text: '—', title: '' });
  });
  it('builds a <time> element', () => {
    const t = timeElement(document, ns, 'Europe/Berlin');
    expect(t.textContent).toBe('2024-07-01 15:30:05');
    expect(t.title).toBe('UTC 2024-07-01 13:30:05');
    expect(t.getAttribute('datetime')).toBe('2024-07-01T13:30:05.000Z');
  });
});

describe('amounts', () => {
  it('groups decimal strings without changing their digits', () => {
    expect(groupDecimal('1234567.123456789')).toBe('1,234,567.123456789');
    expect(groupDecimal('-1000')).toBe('-1,000');
    expect(groupDecimal('12')).toBe('12');
    expect(groupDecimal(null)).toBe('—');
    expect(groupDecimal('n/a')).toBe('n/a');
    expect(formatPercent(0.12345)).toBe('12.35%');
  });
});
