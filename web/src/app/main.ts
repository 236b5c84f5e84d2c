// The dashboard shell: routes, the request states every page shows (loading, empty, error), and
// the backtest run page drawn with the same chart module as report.html.

import { renderReport, type RenderedReport } from '../charts';
import { getJson, type Load, type RunSummary } from './api';
import { parseRoute, type Route } from './router';

const TOKEN_KEY = 'tradepulse.token';

function state(main: HTMLElement, kind: 'loading' | 'empty' | 'error', text: string): void {
  const p = document.createElement('p');
  p.className = `state ${kind}`;
  if (kind === 'error') p.setAttribute('role', 'alert');
  else p.setAttribute('aria-live', 'polite');
  p.textContent = text;
  main.replaceChildren(p);
}

function heading(text: string): HTMLElement {
  const h = document.createElement('h1');
  h.textContent = text;
  return h;
}

let current: RenderedReport | null = null;

async function show(route: Route, main: HTMLElement): Promise<void> {
  current?.dispose();
  current = null;
  const token = localStorage.getItem(TOKEN_KEY);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('.top nav a')) {
    const active = parseRoute(a.getAttribute('href') ?? '').page === (route.page === 'run' ? 'backtests' : route.page);
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  switch (route.page) {
    case 'overview':
      main.replaceChildren(heading('Overview'));
      main.append(Object.assign(document.createElement('p'), { className: 'state', textContent: 'Live strategies appear here once `tradepulse serve` runs (core API, /v1).' }));
      return;
    case 'backtests': {
      state(main, 'loading', 'Loading backtest runs…');
      const runs: Load<RunSummary[]> = await getJson('v1/backtests', fetch, token);
      if (runs.state === 'error') return state(main, 'error', runs.message);
      if (runs.state !== 'ok') return;
      if (runs.data.length === 0) return state(main, 'empty', 'No backtest runs stored yet.');
      const table = document.createElement('table');
      table.className = 'runs';
      table.innerHTML = '<thead><tr><th scope="col">Run</th><th scope="col">Strategy</th><th scope="col">Instrument</th><th scope="col">Created</th></tr></thead>';
      const body = document.createElement('tbody');
      for (const r of runs.data) {
        const tr = document.createElement('tr');
        const link = Object.assign(document.createElement('a'), { href: `#/backtests/${encodeURIComponent(r.id)}`, textContent: r.id });
        const cells = [link, r.strategy, r.instrument, r.created_at].map((c) => {
          const td = document.createElement('td');
          td.append(c);
          return td;
        });
        tr.append(...cells);
        body.append(tr);
      }
      table.append(body);
      main.replaceChildren(heading('Backtests'), table);
      return;
    }
    case 'run': {
      state(main, 'loading', `Loading run ${route.id}…`);
      const report = await getJson<unknown>(`v1/backtests/${encodeURIComponent(route.id)}/report`, fetch, token);
      if (report.state === 'error') return state(main, 'error', report.message);
      if (report.state !== 'ok') return;
      const root = document.createElement('div');
      main.replaceChildren(heading(`Run ${route.id}`), root);
      current = renderReport(root, report.data);
      return;
    }
    case 'missing':
      state(main, 'error', `No page at ${route.path}.`);
  }
}

const main = document.getElementById('main');
if (main) {
  const go = () => void show(parseRoute(location.hash), main);
  window.addEventListener('hashchange', go);
  go();
}
