// Monthly returns as a table: one row per year, a cell per month coloured by its return (red
// losses, green gains), and the year's return. A table is read by screen readers as what it is.

import { el, type Context, type Disposable } from './frame';
import { empty } from './equity';
import { formatPercent } from './format';
import type { MonthlyReturnsPanel } from './payload';

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Background for a return: white at zero, full red or green at ±`scale`, square-root ramp. */
export function diverging(v: number, scale: number): string {
  const t = Math.sqrt(Math.min(1, Math.abs(v) / scale));
  const [r, g, b] = v < 0 ? [0xd7, 0x30, 0x27] : [0x1a, 0x98, 0x50];
  const mix = (c: number) => Math.round(255 + (c - 255) * t);
  return `rgb(${mix(r)}, ${mix(g)}, ${mix(b)})`;
}

/** Whether text on that background should be white (dark cell) rather than ink. */
export function darkCell(v: number, scale: number): boolean {
  return Math.sqrt(Math.min(1, Math.abs(v) / scale)) > 0.62;
}

export function renderMonthly(host: HTMLElement, panel: MonthlyReturnsPanel, ctx: Context): Disposable {
  const doc = ctx.document;
  if (panel.years.length === 0) {
    host.append(empty(doc, 'No bars: no months to show.'));
    return { dispose() {} };
  }
  const monthScale = Math.max(0.01, ...panel.years.flatMap((r) => r.months.filter((v): v is number => v !== null).map(Math.abs)));
  const yearScale = Math.max(0.01, ...panel.years.map((r) => Math.abs(r.total ?? 0)));
  const wrap = el(doc, 'div', { class: 'tp-heat', tabindex: '0', role: 'region', 'aria-label': `${panel.title} (scrolls sideways)` });
  const table = el(doc, 'table', { class: 'tp-heatmap' });
  table.append(el(doc, 'caption', { class: 'tp-sr' }, `${panel.title}: return of each month and year`));
  const head = el(doc, 'tr');
  head.append(el(doc, 'th', { scope: 'col' }, 'Year'));
  MONTHS.forEach((m, i) => head.append(el(doc, 'th', { scope: 'col', abbr: MONTH_NAMES[i] as string }, m)));
  head.append(el(doc, 'th', { scope: 'col', class: 'tp-total' }, 'Year'));
  const thead = el(doc, 'thead');
  thead.append(head);
  const body = el(doc, 'tbody');
  const cell = (v: number | null, scale: number, what: string) => {
    const td = el(doc, 'td');
    if (v === null) {
      td.className = 'tp-missing';
      td.textContent = '';
      td.title = `${what}: no bars`;
      return td;
    }
    td.textContent = formatPercent(v, 1);
    td.style.background = diverging(v, scale);
    if (darkCell(v, scale)) td.style.color = '#ffffff';
    td.title = `${what}: ${formatPercent(v, 2)}`;
    return td;
  };
  for (const row of panel.years) {
    const tr = el(doc, 'tr');
    tr.append(el(doc, 'th', { scope: 'row' }, String(row.year)));
    row.months.forEach((v, i) => tr.append(cell(v, monthScale, `${MONTH_NAMES[i]} ${row.year}`)));
    const total = cell(row.total, yearScale, `Year ${row.year}`);
    total.classList.add('tp-total');
    tr.append(total);
    body.append(tr);
  }
  table.append(thead, body);
  wrap.append(table);
  host.append(wrap);
  return { dispose() {} };
}
