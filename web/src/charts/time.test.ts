import { describe, expect, it } from 'vitest';

import { formatTime, offsetSeconds, precisionOf, TimeShift, unionTimes } from './time';

// 2024-03-10 07:00 UTC: New York springs forward (02:00 EST → 03:00 EDT).
const SPRING = Date.UTC(2024, 2, 10, 7) / 1000;
// 2024-11-03 06:00 UTC: New York falls back (02:00 EDT → 01:00 EST).
const FALL = Date.UTC(2024, 10, 3, 6) / 1000;

describe('time zones', () => {
  it('formats the instant in the given zone', () => {
    const t = Date.UTC(2024, 0, 31, 14, 30, 5) / 1000;
    expect(formatTime(t, 'UTC', 'minute')).toBe('2024-01-31 14:30');
    expect(formatTime(t, 'America/New_York', 'second')).toBe('2024-01-31 09:30:05');
    expect(formatTime(t, 'Asia/Kolkata', 'minute')).toBe('2024-01-31 20:00');
    expect(formatTime(t, 'Pacific/Auckland', 'day')).toBe('2024-02-01');
  });

  it('knows daylight saving offsets', () => {
    expect(offsetSeconds(SPRING - 1, 'America/New_York')).toBe(-5 * 3600);
    expect(offsetSeconds(SPRING, 'America/New_York')).toBe(-4 * 3600);
    expect(offsetSeconds(FALL, 'America/New_York')).toBe(-5 * 3600);
  });

  it('shifts to wall-clock times that strictly increase, and maps back exactly', () => {
    const utc = Array.from({ length: 24 }, (_, i) => FALL - 2 * 3600 + i * 600);
    const shift = new TimeShift('America/New_York');
    const shifted = shift.shiftAll(utc);
    for (let i = 1; i < shifted.length; i++) expect(shifted[i]).toBeGreaterThan(shifted[i - 1] as number);
    utc.forEach((t, i) => {
      expect(shift.utcOf(shifted[i] as number)).toBe(t);
      expect(shift.toChart(t)).toBe(shifted[i]);
    });
    // Before the change the wall clock is UTC−4.
    expect(shifted[0]).toBe((utc[0] as number) - 4 * 3600);
    // Well after it, UTC−5.
    expect(shifted[23]).toBe((utc[23] as number) - 5 * 3600);
  });

  it('UTC is not shifted', () => {
    const shift = new TimeShift('UTC');
    expect(shift.shiftAll([10, 20, 30])).toEqual([10, 20, 30]);
  });

  it('picks the precision the spacing needs', () => {
    expect(precisionOf([0, 86400, 172800])).toBe('minute');
    expect(precisionOf([0, 10, 20])).toBe('second');
    expect(precisionOf([0, 60, 120])).toBe('minute');
  });

  it('merges time lists', () => {
    expect(unionTimes([1, 3, 5], [2, 3, 6], [])).toEqual([1, 2, 3, 5, 6]);
  });
});

describe('offset spans', () => {
  it('agree with Intl at every hour over two years, in zones with odd offsets too', () => {
    for (const zone of ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns']) {
      const shift = new TimeShift(zone);
      const start = Date.UTC(2023, 0, 1) / 1000;
      const times = Array.from({ length: 2 * 365 * 24 }, (_, i) => start + i * 3600 + 1800);
      const shifted = shift.shiftAll(times);
      times.forEach((t, i) => {
        const expected = t + offsetSeconds(t, zone);
        // Only the repeated hour at the end of daylight saving may be nudged.
        if (shifted[i] !== expected) expect((shifted[i] as number) - expected).toBeLessThanOrEqual(3600);
        else expect(shifted[i]).toBe(expected);
      });
      const exact = times.filter((t, i) => shifted[i] === t + offsetSeconds(t, zone)).length;
      expect(exact).toBeGreaterThan(times.length - 5);
    }
  });
});
