// Times and amounts as people read them: times in the user's zone (UTC on hover, in `title`),
// decimal strings shown as sent, not re-rounded through floats.

import { formatTime, userTimeZone } from '../charts';

export { userTimeZone };

/** UTC nanoseconds → seconds (exact to the second for any time before 2262). */
export const nsToSeconds = (ns: number): number => Math.floor(ns / 1e9);

/** `2024-03-05 09:30:10` in `timeZone` and the same instant in UTC, for the `title`. */
export function formatNs(ns: number | null | undefined, timeZone: string = userTimeZone()): { text: string; title: string } {
  if (ns === null || ns === undefined || !Number.isFinite(ns)) return { text: '—', title: '' };
  const s = ns / 1e9;
  return { text: formatTime(s, timeZone, 'second'), title: `UTC ${formatTime(s, 'UTC', 'second')}` };
}

/** A `<time>` element: local text, UTC title, ISO datetime. */
export function timeElement(doc: Document, ns: number | null | undefined, timeZone: string = userTimeZone()): HTMLElement {
  const { text, title } = formatNs(ns, timeZone);
  const t = doc.createElement('time');
  t.textContent = text;
  if (title) {
    t.title = title;
    t.dateTime = new Date(Math.floor((ns as number) / 1e6)).toISOString();
  }
  return t;
}

/** A decimal string with thousands separators, digits kept: `-1234567.5` → `-1,234,567.5`. */
export function groupDecimal(text: string | null | undefined): string {
  if (text === null || text === undefined || text === '') return '—';
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(text.trim());
  if (!m) return text;
  return `${m[1]}${(m[2] as string).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${m[3] ?? ''}`;
}

/** A number with `digits` decimals and separators (for amounts computed here). */
export function formatNumber(v: number, digits = 2): string {
  if (!Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A fraction as a percentage: 0.1234 → `12.34%`. */
export function formatPercent(v: number | undefined, digits = 2): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  return `${(v * 100).toFixed(digits)}%`;
}
