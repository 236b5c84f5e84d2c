// Backtests: the stored runs, and (trader+) a launch from one of the service's configs with the
// job's progress polled until its run is stored.

import type { Schemas } from '../api';
import { card, h, outcome, showLoad, stateBox, table, time } from '../dom';
import { formatNumber, formatPercent } from '../format';
import { can } from '../roles';
import type { Cleanup, PageContext } from './context';

type Run = Schemas['BacktestRunDto'];
type Job = Schemas['BacktestJobDto'];

export const metricCell = (run: Run, name: string, percent: boolean) => {
  const v = run.metrics[name];
  return v === undefined ? '—' : percent ? formatPercent(v) : formatNumber(v, 2);
};

export function jobText(j: Job): string {
  switch (j.status) {
    case 'queued':
      return `Job ${j.id} (${j.config}): queued, waiting for a free slot.`;
    case 'running':
      return `Job ${j.id} (${j.config}): running…`;
    case 'succeeded':
      return `Job ${j.id} (${j.config}): done, stored as run ${j.run_id}.`;
    case 'failed':
      return `Job ${j.id} (${j.config}) failed: ${j.error ?? 'no reason given'}`;
  }
}

export function backtests(ctx: PageContext): Cleanup {
  const { client, role } = ctx.session;
  const runs = h('div');
  const launch = h('div');
  let disposed = false;
  let poll: ReturnType<typeof setTimeout> | null = null;

  const loadRuns = async () => {
    const r = await client.get('/v1/backtests', { query: { limit: 200 } });
    if (disposed) return;
    showLoad(
      runs,
      r,
      (list) =>
        table(
          'Backtest runs',
          [
            { label: 'Run', cell: (x: Run) => h('a', { href: `#/backtests/${x.id}`, 'data-run': x.id }, `#${x.id} ${x.name}`) },
            { label: 'Strategy', cell: (x) => x.strategy },
            { label: 'Finished', cell: (x) => time(x.finished_at_ns) },
            { label: 'Return', cell: (x) => metricCell(x, 'total_return', true), num: true },
            { label: 'Sharpe', cell: (x) => metricCell(x, 'sharpe', false), num: true },
            { label: 'Max drawdown', cell: (x) => metricCell(x, 'max_drawdown', true), num: true },
            { label: 'Round trips', cell: (x) => (x.metrics.round_trips === undefined ? '—' : String(x.metrics.round_trips)), num: true },
          ],
          list,
        ),
      { when: (l) => l.length === 0, text: 'No backtest runs stored yet.' },
    );
  };

  const watch = (id: number, line: HTMLElement) => {
    const tick = async () => {
      const j = await client.get('/v1/backtests/jobs/{id}', { path: { id } });
      if (disposed) return;
      if (j.state !== 'ok') {
        line.textContent = j.state === 'error' ? `Job ${id}: ${j.message}` : '';
        return;
      }
      line.replaceChildren(jobText(j.data));
      line.dataset.job = j.data.status;
      if (j.data.status === 'succeeded' && j.data.run_id !== null && j.data.run_id !== undefined) {
        line.append(' ', h('a', { href: `#/backtests/${j.data.run_id}` }, 'Open the run'));
        void loadRuns();
      } else if (j.data.status !== 'failed') poll = setTimeout(() => void tick(), 500);
    };
    void tick();
  };

  const loadConfigs = async () => {
    if (!can(role, 'launch_backtest')) {
      launch.replaceChildren(h('p', { class: 'muted' }, 'Launching a backtest needs the trader role.'));
      return;
    }
    const c = await client.get('/v1/backtests/configs');
    if (disposed) return;
    showLoad(
      launch,
      c,
      (names) => {
        const select = h('select', { id: 'bt-config', name: 'config', required: true }, ...names.map((n) => h('option', { value: n }, n)));
        const name = h('input', { id: 'bt-name', name: 'name', maxlength: 128, placeholder: 'default: the file name', autocomplete: 'off' });
        const line = outcome();
        const submit = h('button', { type: 'submit', class: 'btn primary' }, 'Launch backtest');
        const form = h(
          'form',
          { class: 'launch' },
          h('div', { class: 'field' }, h('label', { for: 'bt-config' }, 'Config'), select),
          h('div', { class: 'field' }, h('label', { for: 'bt-name' }, 'Run name'), name),
          submit,
          line,
        );
        form.addEventListener('submit', (e) => {
          e.preventDefault();
          submit.disabled = true;
          line.textContent = 'Launching…';
          void client.post('/v1/backtests', { body: { config: select.value, name: name.value.trim() || null } }).then((r) => {
            submit.disabled = false;
            if (disposed) return;
            if (r.state !== 'ok') line.textContent = r.state === 'error' ? `Not launched: ${r.message}` : '';
            else watch(r.data.id, line);
          });
        });
        return form;
      },
      { when: (n) => n.length === 0, text: 'The service has no backtest configs to launch (backtests.directory is empty).' },
    );
  };

  ctx.main.replaceChildren(h('h1', {}, 'Backtests'), card('Launch', launch), card('Runs', runs));
  runs.replaceChildren(stateBox('loading', 'Loading backtest runs…'));
  launch.replaceChildren(stateBox('loading', 'Loading configs…'));
  void Promise.all([loadRuns(), loadConfigs()]).then(() => ctx.ready());
  return () => {
    disposed = true;
    if (poll) clearTimeout(poll);
  };
}
