import { describe, expect, it } from 'vitest';

import { darkCell, diverging } from './monthly';
import { renderReport } from './report';

// Only DOM panels here: chart panels need a real canvas and are covered by the browser test.
const monthly = {
  kind: 'monthly_returns',
  id: 'monthly-returns',
  title: 'Monthly returns',
  note: 'Month-end over month-end.',
  years: [
    { year: 2023, months: [null, null, 0.05, -0.02, 0, 0, 0, 0, 0, 0, 0, 0.1], total: 0.13 },
    { year: 2024, months: [-0.1, ...new Array(11).fill(null)], total: -0.1 },
  ],
};

describe('renderReport', () => {
  it('draws a monthly table with a row per year and labelled cells', async () => {
    document.body.innerHTML = '<div id="r"></div>';
    const root = document.getElementById('r') as HTMLElement;
    const r = renderReport(root, { schema: 1, title: 't', panels: [monthly] }, { timeZone: 'UTC' });
    await r.ready;
    const section = r.sections.get('monthly-returns') as HTMLElement;
    expect(section.querySelector('h2')?.textContent).toBe('Monthly returns');
    const rows = section.querySelectorAll('tbody tr');
    expect(rows).toHaveLength(2);
    const march = rows[0]?.querySelectorAll('td')[2] as HTMLElement;
    expect(march.textContent).toBe('5.0%');
    expect(march.title).toBe('March 2023: 5.00%');
    expect(rows[0]?.querySelectorAll('td')[0]?.className).toBe('tp-missing');
    expect(section.querySelector('.tp-note')?.textContent).toBe('Month-end over month-end.');
    expect(root.getAttribute('data-rendered')).toBe('true');
    expect(document.getElementById('tradepulse-charts-style')).not.toBeNull();
  });

  it('shows a notice for an unknown panel kind and still draws the rest', async () => {
    document.body.innerHTML = '<div id="r"></div>';
    const root = document.getElementById('r') as HTMLElement;
    const r = renderReport(root, { schema: 1, title: 't', panels: [{ kind: 'sweep_surface', id: 's', title: 'Later' }, monthly] });
    // Later panels are drawn in tasks of their own.
    expect(root.querySelector('#monthly-returns')?.getAttribute('aria-busy')).toBe('true');
    await r.ready;
    expect(root.querySelector('#monthly-returns')?.hasAttribute('aria-busy')).toBe(false);
    expect(root.querySelector('#s')?.textContent).toContain('cannot show "sweep_surface" panels yet');
    expect(root.querySelectorAll('#monthly-returns tbody tr')).toHaveLength(2);
  });

  it('shows an error, not a blank page, for a broken payload', () => {
    document.body.innerHTML = '<div id="r"></div>';
    const root = document.getElementById('r') as HTMLElement;
    renderReport(root, { schema: 1, title: 't', panels: [{ ...monthly, years: [{ year: 2020, months: [] }] }] });
    expect(root.querySelector('[role="alert"]')?.textContent).toContain('every year needs a year and 12 months');
  });

  it('shows empty states', async () => {
    document.body.innerHTML = '<div id="r"></div>';
    const root = document.getElementById('r') as HTMLElement;
    const trades = { kind: 'trade_pnl', id: 'trade-pnl', title: 'P&L', entry_time: [], exit_time: [], direction: [], pnl: [], return: [] };
    await renderReport(root, { schema: 1, title: 't', panels: [{ ...monthly, years: [] }, trades] }).ready;
    expect(root.querySelector('#monthly-returns .tp-empty')?.textContent).toBe('No bars: no months to show.');
    expect(root.querySelector('#trade-pnl .tp-empty')?.textContent).toBe('No closed round trips.');
  });

  it('colours returns on a diverging scale', () => {
    expect(diverging(0, 0.1)).toBe('rgb(255, 255, 255)');
    expect(diverging(-0.1, 0.1)).toBe('rgb(215, 48, 39)');
    expect(diverging(0.1, 0.1)).toBe('rgb(26, 152, 80)');
    expect(darkCell(0.1, 0.1)).toBe(true);
    expect(darkCell(0.001, 0.1)).toBe(false);
  });
});
