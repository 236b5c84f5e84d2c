// Backtests: the stored runs and sweeps, and (trader+) a launch of a backtest or a sweep from one
// of the service's configs, with the job's progress polled until it is stored.

import type { Schemas } from '../api';
import { card, h, outcome, showLoad, stateBox, table, time } from '../dom';
import { formatNumber, formatPercent } from '../format';
import { can } from '../roles';
import type { Cleanup, PageContext } from './context';

type Run = Schemas['BacktestRunDto'];
type Job = Schemas['BacktestJobDto'];
type Sweep = Schemas['SweepDto'];
type SweepJob = Schemas['SweepJobDto'];

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

export function sweepJobText(j: SweepJob): string {
  const what = `Sweep job ${j.id} (${j.config} as ${j.sweep_id})`;
  switch (j.status) {
    case 'queued':
      return `${what}: queued, waiting for a free slot.`;
    case 'running':
      return `${what}: running…`;
    case 'succeeded':
      return `${what}: done, ${j.trials_total} trials stored.`;
    case 'failed':
      return `${what} failed: ${j.error ?? 'no reason given'}`;
  }
}

export function sweepStored(s: Sweep): string {
  return s.complete ? String(s.trials_stored) : `${s.trials_stored} of ${s.total_trials} (${s.shards_stored.length}/${s.shard_count} shards)`;
}

/** A launch form: a config picker, an optional name or id, the button; `send` posts it. */
function launchForm(opts: {
  prefix: string;
  configLabel: string;
  names: readonly string[];
  nameLabel: string;
  nameAttrs: Record<string, string | number>;
  button: string;
  below: Node[];
  send: (config: string, name: string | null) => Promise<void>;
}): HTMLFormElement {
  const select = h('select', { id: `${opts.prefix}-config`, name: 'config', required: true }, ...opts.names.map((n) => h('option', { value: n }, n)));
  const name = h('input', { id: `${opts.prefix}-name`, maxlength: 128, placeholder: 'default: the file name', autocomplete: 'off', ...opts.nameAttrs });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, opts.button);
  const form = h(
    'form',
    { class: 'launch' },
    h('div', { class: 'field' }, h('label', { for: select.id }, opts.configLabel), select),
    h('div', { class: 'field' }, h('label', { for: name.id }, opts.nameLabel), name),
    submit,
    ...opts.below,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit.disabled = true;
    void opts.send(select.value, name.value.trim() || null).then(() => {
      submit.disabled = false;
    });
  });
  return form;
}

export function backtests(ctx: PageContext): Cleanup {
  const { client, role } = ctx.session;
  const runs = h('div');
  const launch = h('div');
  const sweeps = h('div');
  const launchSweep = h('div');
  let disposed = false;
  const polls = new Set<ReturnType<typeof setTimeout>>();
  const later = (f: () => void, ms: number) => {
    const t = setTimeout(() => {
      polls.delete(t);
      f();
    }, ms);
    polls.add(t);
  };

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

  // One job followed per form: a new launch stops following the previous one. The live line is
  // rewritten only when the job's state changes, so a screen reader hears each state once.
  let backtestWatch = 0;
  let sweepWatch = 0;

  const watch = (id: number, line: HTMLElement) => {
    const mine = ++backtestWatch;
    const tick = async () => {
      const j = await client.get('/v1/backtests/jobs/{id}', { path: { id } });
      if (disposed || mine !== backtestWatch) return;
      if (j.state !== 'ok') {
        line.textContent = j.state === 'error' ? `Job ${id}: ${j.message}` : '';
        return;
      }
      if (line.dataset.job !== j.data.status || line.dataset.jobId !== String(id)) line.replaceChildren(jobText(j.data));
      line.dataset.job = j.data.status;
      line.dataset.jobId = String(id);
      if (j.data.status === 'succeeded' && j.data.run_id !== null && j.data.run_id !== undefined) {
        line.append(' ', h('a', { href: `#/backtests/${j.data.run_id}` }, 'Open the run'));
        void loadRuns();
      } else if (j.data.status !== 'failed') later(() => void tick(), 500);
    };
    void tick();
  };

  const loadSweeps = async () => {
    const r = await client.get('/v1/sweeps');
    if (disposed) return;
    showLoad(
      sweeps,
      r,
      (list) =>
        table(
          'Sweeps',
          [
            { label: 'Sweep', cell: (x: Sweep) => h('a', { href: `#/sweeps/${encodeURIComponent(x.id)}`, 'data-sweep': x.id }, x.id) },
            { label: 'Parameters', cell: (x) => x.parameters.join(', ') },
            { label: 'Objective', cell: (x) => x.objective },
            { label: 'Trials', cell: sweepStored, num: true },
            { label: 'Stored', cell: (x) => time(x.updated_at_ns) },
          ],
          list,
        ),
      { when: (l) => l.length === 0, text: 'No sweeps stored yet (tradepulse sweep --database-url, or launch one).' },
    );
  };

  const watchSweep = (id: number, line: HTMLElement, bar: HTMLProgressElement, count: HTMLElement) => {
    const mine = ++sweepWatch;
    const tick = async () => {
      const j = await client.get('/v1/sweeps/jobs/{id}', { path: { id } });
      if (disposed || mine !== sweepWatch) return;
      if (j.state !== 'ok') {
        line.textContent = j.state === 'error' ? `Sweep job ${id}: ${j.message}` : '';
        return;
      }
      const shown = j.data.status === 'running' || j.data.status === 'succeeded';
      const done = j.data.status === 'succeeded' ? j.data.trials_total : j.data.trials_done;
      bar.hidden = !shown;
      bar.max = Math.max(1, j.data.trials_total);
      bar.value = done;
      count.textContent = shown ? `${done} of ${j.data.trials_total} trials run` : '';
      if (line.dataset.job !== j.data.status || line.dataset.jobId !== String(id)) line.replaceChildren(sweepJobText(j.data));
      line.dataset.job = j.data.status;
      line.dataset.jobId = String(id);
      if (j.data.status === 'succeeded') {
        line.append(' ', h('a', { href: `#/sweeps/${encodeURIComponent(j.data.sweep_id)}` }, 'Open the sweep'));
        void loadSweeps();
      } else if (j.data.status !== 'failed') later(() => void tick(), 500);
    };
    void tick();
  };

  const loadSweepConfigs = async () => {
    if (!can(role, 'launch_backtest')) {
      launchSweep.replaceChildren(h('p', { class: 'muted' }, 'Launching a sweep needs the trader role.'));
      return;
    }
    const c = await client.get('/v1/sweeps/configs');
    if (disposed) return;
    if (c.state === 'error' && c.code === 'SWEEPS_NOT_CONFIGURED') {
      launchSweep.replaceChildren(stateBox('empty', 'This service launches no sweeps (its config has no backtests.sweep_directory).'));
      return;
    }
    showLoad(
      launchSweep,
      c,
      (names) => {
        const line = outcome();
        const bar = h('progress', { class: 'job-progress', max: 1, value: 0, 'aria-label': 'Trials run' });
        bar.hidden = true;
        const count = h('span', { class: 'muted' });
        const form = launchForm({
          prefix: 'sw',
          configLabel: 'Sweep config',
          names,
          nameLabel: 'Sweep id',
          nameAttrs: { name: 'sweep_id', pattern: '[A-Za-z0-9._\\-]+' },
          button: 'Launch sweep',
          below: [],
          send: async (config, sweepId) => {
            line.textContent = 'Launching…';
            const r = await client.post('/v1/sweeps', { body: { config, sweep_id: sweepId } });
            if (disposed) return;
            if (r.state !== 'ok') line.textContent = r.state === 'error' ? `Not launched: ${r.message}` : '';
            else watchSweep(r.data.id, line, bar, count);
          },
        });
        return h('div', {}, form, bar, count, line);
      },
      { when: (n) => n.length === 0, text: 'The service has no sweep configs to launch (backtests.sweep_directory is empty).' },
    );
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
        const line = outcome();
        return launchForm({
          prefix: 'bt',
          configLabel: 'Config',
          names,
          nameLabel: 'Run name',
          nameAttrs: { name: 'name' },
          button: 'Launch backtest',
          below: [line],
          send: async (config, name) => {
            line.textContent = 'Launching…';
            const r = await client.post('/v1/backtests', { body: { config, name } });
            if (disposed) return;
            if (r.state !== 'ok') line.textContent = r.state === 'error' ? `Not launched: ${r.message}` : '';
            else watch(r.data.id, line);
          },
        });
      },
      { when: (n) => n.length === 0, text: 'The service has no backtest configs to launch (backtests.directory is empty).' },
    );
  };

  ctx.main.replaceChildren(
    h('h1', {}, 'Backtests'),
    h('div', { class: 'grid' }, card('Launch', launch), card('Launch a sweep', launchSweep)),
    card('Runs', runs),
    card('Sweeps', sweeps),
  );
  runs.replaceChildren(stateBox('loading', 'Loading backtest runs…'));
  launch.replaceChildren(stateBox('loading', 'Loading configs…'));
  sweeps.replaceChildren(stateBox('loading', 'Loading sweeps…'));
  launchSweep.replaceChildren(stateBox('loading', 'Loading sweep configs…'));
  void Promise.all([loadRuns(), loadConfigs(), loadSweeps(), loadSweepConfigs()]).then(() => ctx.ready());
  return () => {
    disposed = true;
    for (const t of polls) clearTimeout(t);
  };
}
