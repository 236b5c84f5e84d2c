// Times: the payload is in UTC seconds; people read their own time zone. lightweight-charts draws
// its time axis in UTC, so (as its documentation advises) each chart gets times shifted by the
// zone's offset at that instant, which puts tick marks on local midnights and month starts. The
// legend and the crosshair label always format the real UTC instant, so they stay exact even
// where a shift had to be nudged (see `TimeShift`).

export interface TimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The browser's time zone (IANA name), UTC when it cannot tell. */
export function userTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Wall-clock fields of `utcSeconds` in `timeZone`. */
export function partsIn(utcSeconds: number, timeZone: string): TimeParts {
  const out: TimeParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of formatter(timeZone).formatToParts(new Date(utcSeconds * 1000))) {
    if (p.type in out) out[p.type as keyof TimeParts] = Number(p.value);
  }
  return out;
}

/** The zone's offset from UTC at that instant, in seconds (east positive). */
export function offsetSeconds(utcSeconds: number, timeZone: string): number {
  const whole = Math.floor(utcSeconds);
  const p = partsIn(whole, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) / 1000;
  return asUtc - whole;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** How much of a time to show. */
export type Precision = 'day' | 'minute' | 'second';

/** `2024-03-05`, `2024-03-05 14:30` or `2024-03-05 14:30:10` in `timeZone`. */
export function formatTime(utcSeconds: number, timeZone: string, precision: Precision): string {
  const p = partsIn(utcSeconds, timeZone);
  const date = `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
  if (precision === 'day') return date;
  const hm = `${date} ${pad(p.hour)}:${pad(p.minute)}`;
  return precision === 'minute' ? hm : `${hm}:${pad(p.second)}`;
}

/** The finest precision the spacing of `times` needs: seconds under a minute, minutes under a day. */
export function precisionOf(times: readonly number[]): Precision {
  let step = Infinity;
  for (let i = 1; i < times.length; i++) {
    const d = (times[i] as number) - (times[i - 1] as number);
    if (d > 0 && d < step) step = d;
  }
  if (step < 60 || times.some((t) => t % 60 !== 0)) return 'second';
  // Daily data still shows the local time: a bar opening at 00:00 UTC is 19:00 the day before
  // in New York, and a date alone would hide that.
  return 'minute';
}

/**
 * Maps UTC seconds to the "shifted" seconds a chart is given (wall-clock time in the zone,
 * written as if it were UTC), and back. Shifted times must strictly increase; when a clock goes
 * back (end of daylight saving) the repeated hour is nudged forward one second per point, so the
 * axis is off for at most that hour while the legend, which formats the real instant, is not.
 */
export class TimeShift {
  private readonly back = new Map<number, number>();
  private readonly forward = new Map<number, number>();
  /** A span `[from, to)` of UTC seconds known to have one offset. */
  private span = { from: Infinity, to: -Infinity, offset: 0 };

  constructor(readonly timeZone: string) {}

  private offsetAt(utc: number): number {
    const s = this.span;
    if (utc >= s.from && utc < s.to) return s.offset;
    if (this.timeZone === 'UTC') {
      this.span = { from: -Infinity, to: Infinity, offset: 0 };
      return 0;
    }
    // Asking Intl for every point is slow (a million-bar report has tens of thousands of
    // times); offsets change a few times a year, so find how long this one lasts: a week ahead
    // if it is the same then (no zone changes twice within a week), else the second it changes.
    const offset = offsetSeconds(utc, this.timeZone);
    const WEEK = 7 * 86400;
    let to = Math.floor(utc) + WEEK;
    if (offsetSeconds(to, this.timeZone) !== offset) {
      let lo = Math.floor(utc);
      while (to - lo > 1) {
        const mid = Math.floor((lo + to) / 2);
        if (offsetSeconds(mid, this.timeZone) === offset) lo = mid;
        else to = mid;
      }
    }
    this.span = { from: utc, to, offset };
    return offset;
  }

  /** Shifts an ascending sequence; call it once per chart with every time of that chart, merged. */
  shiftAll(utc: readonly number[]): number[] {
    let last = -Infinity;
    const out = new Array<number>(utc.length);
    for (let i = 0; i < utc.length; i++) {
      const t = utc[i] as number;
      let s = t + this.offsetAt(t);
      if (s <= last) s = last + 1;
      last = s;
      out[i] = s;
      this.back.set(s, t);
      this.forward.set(t, s);
    }
    return out;
  }

  /** The shifted time of a UTC instant passed to `shiftAll` (or its plain shift otherwise). */
  toChart(utc: number): number {
    return this.forward.get(utc) ?? utc + this.offsetAt(utc);
  }

  /** The UTC instant of a shifted time produced by `shiftAll`. */
  utcOf(shifted: number): number {
    return this.back.get(shifted) ?? shifted - this.offsetAt(shifted);
  }
}

/** Sorted union of several ascending time arrays (duplicates once). */
export function unionTimes(...lists: ReadonlyArray<readonly number[]>): number[] {
  const all = new Set<number>();
  for (const l of lists) for (const t of l) all.add(t);
  return Array.from(all).sort((a, b) => a - b);
}
