// Browser test of the dashboard against a real `tradepulse serve`: the script seeds a temporary
// SQLite store (a viewer and an admin token, the sample backtest run, a 1,000,000-bar run as
// deploy/bench/backtest_chart.sh stores it), starts serve on a free port with the built dashboard
// (`web: {directory: web/dist}`), and drives Debian's Chromium with playwright-core: sign-in, a
// viewer sees no button it may not press (and its direct POST is a 403), a backtest run's charts
// draw, an admin engages and releases the kill switch through the confirmation dialog, a fill
// arrives over the WebSocket without a reload, the 1M-bar run's time to first chart, no console
// error or warning, and phone and wide layouts without sideways scrolling.
// Prints "N passed, N failed" and exits non-zero on any failure.
//
//   npm run build && node e2e/dashboard.e2e.mjs [--bin PATH/tradepulse] [--screenshots DIR]
//
// Run from web/ or the repository root. --bin defaults to $CARGO_TARGET_DIR/release/tradepulse,
// else target/release/tradepulse. CHROMIUM overrides the browser (default /usr/bin/chromium).

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const dist = resolve(here, '../dist');
const args = process.argv.slice(2);
let bin = join(process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(repo, 'target'), 'release/tradepulse');
let screenshots = null;
let keep = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--bin') bin = resolve(args[++i]);
  else if (args[i] === '--screenshots') screenshots = resolve(args[++i]);
  else if (args[i] === '--keep') keep = true;
  else {
    console.error(`unknown argument ${args[i]}\nusage: node e2e/dashboard.e2e.mjs [--bin PATH] [--screenshots DIR] [--keep]`);
    process.exit(2);
  }
}
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
for (const [path, fix] of [
  [executablePath, 'apt-get install -y chromium'],
  [bin, 'cargo build --release, or --bin PATH'],
  [join(dist, 'index.html'), 'npm run build'],
]) {
  if (!existsSync(path)) {
    console.error(`${path} is missing: ${fix}`);
    process.exit(2);
  }
}

const TIME_ZONE = 'America/New_York';
const WIDE = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };
const FIRST_CHART_BUDGET_MS = 1000;

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n     ${String(e && e.stack ? e.stack : e).split('\n').slice(0, 4).join('\n     ')}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the service ---------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'tradepulse-dash-'));
const db = `sqlite://${join(work, 'core.db')}`;
const run = (cmdArgs, opts = {}) => execFileSync(bin, cmdArgs, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
const freePort = () =>
  new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

let serve = null;
const cleanup = () => {
  if (serve && serve.exitCode === null) serve.kill('SIGTERM');
  if (!keep) rmSync(work, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

const seedStarted = Date.now();
const token = (name, role) => run(['token', 'create', '--name', name, '--role', role, '--database-url', db]).split('\n')[0].trim();
// The sample run (id 1) from a copy whose data path is absolute and whose report goes to the temp dir.
writeFileSync(
  join(work, 'sample.yaml'),
  readFileSync(join(repo, 'configs/backtests/sample.yaml'), 'utf8')
    .replace('path: data/spx_1d.csv', `path: ${join(repo, 'data/spx_1d.csv')}`)
    .replace('directory: reports/sample', `directory: ${join(work, 'report-sample')}`),
);
run(['backtest', join(work, 'sample.yaml'), '--database-url', db, '--quiet']);
// The 1,000,000-bar run (id 2), exactly as deploy/bench/backtest_chart.sh stores it.
run(['data', 'generate', '--bars', '1000000', '--seed', '42', '--output', join(work, 'rw_1m.csv')]);
writeFileSync(
  join(work, 'sma_1m.yaml'),
  readFileSync(join(repo, 'configs/bench/sma_1m.yaml'), 'utf8')
    .replaceAll('bench-data/rw_1m.csv', join(work, 'rw_1m.csv'))
    .replaceAll('reports/bench-sma-1m', join(work, 'report')),
);
run(['backtest', join(work, 'sma_1m.yaml'), '--database-url', db, '--quiet']);
// The shipped sweep (240 trials), stored as `sma_spx` as `tradepulse sweep --database-url` does.
writeFileSync(
  join(work, 'sma_spx.yaml'),
  readFileSync(join(repo, 'configs/sweeps/sma_spx.yaml'), 'utf8').replace('path: data/spx_1d.csv', `path: ${join(repo, 'data/spx_1d.csv')}`),
);
run(['sweep', join(work, 'sma_spx.yaml'), '--database-url', db, '--sweep-id', 'sma_spx', '--output', join(work, 'sweep'), '--quiet']);
const viewerToken = token('e2e-viewer', 'viewer');
const adminToken = token('e2e-admin', 'admin');
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
// The paper environment on a temp store, the dashboard beside the API, and a replay that lasts
// the whole test (about 50 bars a second over 5,000 daily bars) so live fills keep coming.
const config = readFileSync(join(repo, 'configs/environments/paper.yaml'), 'utf8')
  .replaceAll('sqlite://tradepulse-paper.db', db)
  .replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`)
  .replace('speed: { bars_per_second: 100 }', 'speed: { bars_per_second: 50 }')
  // A second strategy on the same instrument: the pages show several at once.
  .replace(
    'checkpoints: true',
    '  - name: sma-spx-fast\n    instrument: SPX.SIM\n    strategy:\n      kind: sma_cross\n      params: { fast: 5, slow: 20, size: { units: 10 }, direction: long_only }\n\ncheckpoints: true',
  )
  .concat(`\nweb:\n  directory: ${dist}\n`);
writeFileSync(join(work, 'paper.yaml'), config);
console.log(`info seeded ${work} in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s; serve on ${base}`);
const serveLog = [];
serve = spawn(bin, ['serve', '--config', join(work, 'paper.yaml')], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
serve.stdout.on('data', (d) => serveLog.push(String(d)));
serve.stderr.on('data', (d) => serveLog.push(String(d)));
const api = async (method, path, tokenValue, body) => {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${tokenValue}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
};
{
  const deadline = Date.now() + 30000;
  let ready = false;
  while (!ready && Date.now() < deadline && serve.exitCode === null) {
    ready = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (!ready) await sleep(100);
  }
  if (!ready) {
    console.error(`serve did not become ready:\n${serveLog.join('').slice(-3000)}`);
    process.exit(1);
  }
}

// ---- the browser ---------------------------------------------------------------------------

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];

/** A page (viewport, zone) recording console errors/warnings and page errors; signed in with `tokenValue` if given. */
async function openPage(viewport, mobile, tokenValue = null) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, isMobile: mobile, hasTouch: mobile, timezoneId: TIME_ZONE, locale: 'en-US' });
  if (tokenValue) await context.addInitScript((t) => {
      if (location.protocol.startsWith('http')) localStorage.setItem('tradepulse.token', t);
    }, tokenValue);
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${page.url()}: console.${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`${page.url()}: page error: ${err.message}`));
  return { context, page };
}
const ready = (page) => page.waitForSelector('main[data-ready="true"]', { timeout: 20000 });
async function go(page, hash) {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
  await ready(page);
}
/** Share of non-background pixels over the canvases under `selector` (0..1). */
async function inkOf(page, selector) {
  return page.evaluate((sel) => {
    let ink = 0;
    let total = 0;
    for (const c of document.querySelectorAll(`${sel} canvas`)) {
      if (!c.width || !c.height) continue;
      const ctx = c.getContext('2d');
      if (!ctx) continue;
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      for (let i = 0; i < data.length; i += 16) {
        total++;
        if (data[i + 3] > 0 && (data[i] < 235 || data[i + 1] < 235 || data[i + 2] < 235)) ink++;
      }
    }
    return total ? ink / total : 0;
  }, selector);
}
const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
const noProblems = (since) => {
  const fresh = problems.slice(since);
  assert(fresh.length === 0, fresh.join('\n'));
};

// Sign-in and the viewer's view.
const viewer = await openPage(WIDE, false);
await check('sign-in: the form, then the overview with the viewer role', async () => {
  const from = problems.length;
  await viewer.page.goto(`${base}/`);
  await viewer.page.getByLabel('API token').waitFor();
  if (screenshots) {
    mkdirSync(screenshots, { recursive: true });
    await viewer.page.screenshot({ path: join(screenshots, 'dashboard-signin-wide.png') });
  }
  // By keyboard: the token field has the focus, Enter submits.
  assert(await viewer.page.evaluate(() => document.activeElement?.id === 'token'), 'the token field is not focused');
  await viewer.page.keyboard.type(viewerToken);
  await viewer.page.keyboard.press('Enter');
  await ready(viewer.page);
  assert((await viewer.page.locator('h1').innerText()) === 'Overview', 'not on the overview');
  const who = await viewer.page.locator('.who').innerText();
  assert(who.includes('e2e-viewer') && who.includes('viewer'), `user badge: ${who}`);
  assert((await viewer.page.locator('#card-status [data-state="error"]').count()) === 0, 'status shows an error');
  await viewer.page.waitForSelector('#live[data-state="open"]', { timeout: 10000 });
  noProblems(from);
});
await check('viewer: no kill-switch, start/stop or launch button; a direct POST is 403', async () => {
  const from = problems.length;
  const kill = await viewer.page.locator('[data-testid="kill-switch"]').innerText();
  assert(/Released|Engaged/.test(kill), `kill switch state missing: ${kill}`);
  assert((await viewer.page.getByRole('button', { name: /kill switch|Release/i }).count()) === 0, 'a kill-switch button is shown to a viewer');
  await go(viewer.page, '#/strategies');
  assert((await viewer.page.getByRole('button', { name: /^(Stop|Start) / }).count()) === 0, 'start/stop shown to a viewer');
  assert((await viewer.page.locator('[data-status]').count()) === 2, 'not both strategies listed');
  await go(viewer.page, '#/backtests');
  assert((await viewer.page.getByRole('button', { name: /^Launch (backtest|sweep)$/ }).count()) === 0, 'launch shown to a viewer');
  // Keyboard focus is visible on the controls.
  await viewer.page.keyboard.press('Tab');
  await viewer.page.keyboard.press('Tab');
  const outline = await viewer.page.evaluate(() => {
    const a = document.activeElement;
    return a && a !== document.body ? `${a.tagName} ${getComputedStyle(a).outlineStyle} ${getComputedStyle(a).outlineWidth}` : 'nothing focused';
  });
  assert(/ solid [1-9]/.test(outline), `focused control has no visible outline: ${outline}`);
  const r = await api('POST', '/v1/kill-switch', viewerToken, { scope: 'global', engaged: true, reason: 'viewer tries' });
  assert(r.status === 403, `viewer POST /v1/kill-switch answered ${r.status}`);
  noProblems(from);
});
await check('backtest run: open it from the list, its charts draw, heatmap and round trips', async () => {
  const from = problems.length;
  await viewer.page.locator('a[data-run="1"]').click();
  await viewer.page.waitForSelector('#run-charts[data-drawn="true"]', { timeout: 30000 });
  await ready(viewer.page);
  await viewer.page.waitForTimeout(300);
  for (const id of ['equity', 'candles']) {
    const ink = await inkOf(viewer.page, `#run-charts #${id}`);
    assert(ink > 0.01, `#${id} looks empty (ink ${ink.toFixed(4)})`);
  }
  assert((await viewer.page.locator('#monthly-returns tbody tr').count()) >= 10, 'monthly heatmap has too few years');
  assert((await viewer.page.locator('#card-round-trips tbody tr').count()) > 0, 'no round trips');
  // Zooming into the price chart (keyboard +) re-requests the visible range's panels only.
  // Up to three rounds of four presses, as a user would press again when nothing loads.
  const chart = viewer.page.locator('#run-charts #candles .tp-chart');
  await chart.scrollIntoViewIfNeeded();
  let zoomed = false;
  for (let round = 0; round < 3 && !zoomed; round++) {
    const asked = viewer.page
      .waitForRequest((r) => /\/chart\?.*panels=range.*from=\d+.*to=\d+/.test(r.url()), { timeout: 4000 })
      .then(() => true, () => false);
    await chart.focus();
    for (let i = 0; i < 4; i++) await viewer.page.keyboard.press('+');
    zoomed = await asked;
    if (!zoomed) console.log(`info zoom round ${round + 1}: no range request within 4 s`);
  }
  assert(zoomed, 'zooming in with + never re-requested the visible range');
  await viewer.page.waitForFunction(() => /Equity and candles of the visible range/.test(document.querySelector('#card-charts')?.textContent ?? ''), null, { timeout: 10000 });
  const ink = await inkOf(viewer.page, '#run-charts #candles');
  assert(ink > 0.01, `zoomed candles look empty (ink ${ink.toFixed(4)})`);
  // The range form does the same; Whole run goes back.
  const asked = viewer.page.waitForRequest((r) => r.url().includes('/chart?') && r.url().includes('panels=range'));
  await viewer.page.getByRole('button', { name: 'Last year' }).click();
  await asked;
  await viewer.page.waitForFunction(() => /Equity and candles of the last year/.test(document.querySelector('#card-charts')?.textContent ?? ''));
  await viewer.page.getByRole('button', { name: 'Whole run' }).click();
  assert((await viewer.page.locator('#monthly-returns').count()) === 1, 'the heatmap went away');
  noProblems(from);
});

await check('sweep: open it from the list; DSR, PBO and the parameter heatmap are the API\'s', async () => {
  const from = problems.length;
  await go(viewer.page, '#/backtests');
  await viewer.page.locator('a[data-sweep="sma_spx"]').click();
  await ready(viewer.page);
  const detail = (await api('GET', '/v1/sweeps/sma_spx', viewerToken)).body;
  assert(detail.trials.length === 240 && detail.report, `the API has ${detail.trials.length} trials, report ${JSON.stringify(detail.report)}`);
  const shown = await viewer.page.evaluate(() => ({
    dsr: document.querySelector('[data-dsr]')?.getAttribute('data-dsr'),
    pbo: document.querySelector('[data-pbo]')?.getAttribute('data-pbo'),
    cells: document.querySelector('table.sweep-heatmap')?.getAttribute('data-cells'),
    filled: document.querySelectorAll('table.sweep-heatmap td[data-trial]').length,
  }));
  assert(shown.dsr === detail.report.deflated_sharpe.dsr.toFixed(6), `DSR shown ${shown.dsr}, API ${detail.report.deflated_sharpe.dsr}`);
  assert(shown.pbo === detail.report.pbo.pbo.toFixed(6), `PBO shown ${shown.pbo}, API ${detail.report.pbo.pbo}`);
  // fast 5..50 (10 columns) × slow 20..250 (24 rows); a cell per trial with an objective value.
  const valued = detail.trials.filter((t) => t.objective !== null && t.objective !== undefined).length;
  assert(shown.cells === '240' && shown.filled === valued, `heatmap: ${shown.cells} cells, ${shown.filled} filled, ${valued} trials with a value`);
  const best = detail.trials.find((t) => t.id === detail.report.best_trial);
  const title = await viewer.page.locator(`table.sweep-heatmap td[data-trial="${best.id}"]`).getAttribute('title');
  assert(title.includes(`fast=${best.values[0]}`) && title.includes(`slow=${best.values[1]}`), `best cell: ${title}`);
  // Swapping the axes redraws: slow on the columns.
  await viewer.page.getByLabel('Columns').selectOption('slow');
  await viewer.page.getByLabel('Rows').selectOption('fast');
  const head = await viewer.page.locator('table.sweep-heatmap thead th').allInnerTexts();
  assert(head.length === 25 && head[1] === '20' && head[24] === '250', `columns after the swap: ${head.join(' ')}`);
  assert((await viewer.page.locator('#card-best-trials tbody tr').count()) === 20, 'not 20 best trials');
  noProblems(from);
});

await check('orders & fills: a side filter, and the CSV export of what is shown', async () => {
  const from = problems.length;
  await go(viewer.page, '#/orders');
  await viewer.page.getByLabel('Side').selectOption('buy');
  await viewer.page.waitForSelector('main[data-ready="true"] #card-orders .table-wrap, main[data-ready="true"] #card-orders [data-state="empty"]');
  const shown = await viewer.page.locator('#card-orders tbody tr').count();
  const download = viewer.page.waitForEvent('download');
  await viewer.page.getByRole('button', { name: 'Export orders CSV' }).click();
  const file = await (await download).path();
  const lines = readFileSync(file, 'utf8').trimEnd().split('\r\n');
  assert(lines[0].startsWith('created_at_utc,client_order_id,'), `header: ${lines[0]}`);
  assert(lines.length - 1 === shown, `${lines.length - 1} CSV rows for ${shown} shown`);
  assert(lines.slice(1).every((l) => l.split(',')[5] === 'buy'), 'a sell in the buy-only export');
  noProblems(from);
});

// Screenshots and layouts of every page, as the viewer.
const pages = [
  ['overview', '#/'],
  ['strategies', '#/strategies'],
  ['backtests', '#/backtests'],
  ['run', '#/backtests/1'],
  ['sweep', '#/sweeps/sma_spx'],
  ['orders', '#/orders'],
];
for (const [vpName, vp, mobile] of [
  ['wide', WIDE, false],
  ['phone', PHONE, true],
]) {
  const { context, page } = await openPage(vp, mobile, viewerToken);
  await check(`${vpName} (${vp.width}px): every page fits without sideways scrolling`, async () => {
    const from = problems.length;
    await page.goto(`${base}/#/`);
    await ready(page);
    const wide = [];
    for (const [name, hash] of pages) {
      await go(page, hash);
      if (name === 'run') await page.waitForSelector('#run-charts[data-drawn="true"]', { timeout: 30000 });
      await page.waitForTimeout(250);
      const o = await overflow(page);
      if (o > 1) wide.push(`${name}: ${o}px`);
      if (screenshots) {
        mkdirSync(screenshots, { recursive: true });
        // Long pages (a run's round trips) are cut at three screens.
        const height = Math.min(await page.evaluate(() => document.documentElement.scrollHeight), vp.height * 3);
        await page.screenshot({ path: join(screenshots, `dashboard-${name}-${vpName}.png`), fullPage: true, clip: { x: 0, y: 0, width: vp.width, height } });
      }
    }
    assert(wide.length === 0, `wider than the screen: ${wide.join(', ')}`);
    noProblems(from);
  });
  await context.close();
}
await viewer.context.close();

// The admin: kill switch and a live fill.
const admin = await openPage(WIDE, false);
await check('admin: engages and releases the kill switch through the confirmation dialog', async () => {
  const from = problems.length;
  await admin.page.goto(`${base}/#/signin`);
  await admin.page.getByLabel('API token').fill(adminToken);
  await admin.page.getByRole('button', { name: 'Sign in' }).click();
  await ready(admin.page);
  await admin.page.getByLabel('Scope').selectOption('global');
  await admin.page.getByRole('button', { name: 'Engage kill switch' }).click();
  const dialog = admin.page.getByRole('dialog');
  await dialog.waitFor();
  // Escape cancels: nothing changes. Focus is in the dialog (the reason field) and visible.
  assert(await admin.page.evaluate(() => document.activeElement?.id === 'confirm-reason'), 'the dialog does not take the focus');
  await admin.page.keyboard.press('Escape');
  await admin.page.getByRole('dialog').waitFor({ state: 'detached' });
  assert((await api('GET', '/v1/kill-switch', adminToken)).body.engaged.length === 0, 'cancel engaged it');
  await admin.page.getByRole('button', { name: 'Engage kill switch' }).click();
  await dialog.getByLabel('Reason (audited)').fill('e2e: engage');
  await dialog.getByRole('button', { name: 'Engage' }).click();
  await admin.page.waitForSelector('[data-kill="engaged"]', { timeout: 10000 });
  assert((await api('GET', '/v1/kill-switch', adminToken)).body.engaged.includes('global'), 'the API does not show it engaged');
  if (screenshots) await admin.page.screenshot({ path: join(screenshots, 'dashboard-overview-admin-wide.png'), fullPage: true });
  await admin.page.getByRole('button', { name: 'Release global' }).click();
  await dialog.getByRole('button', { name: 'Release' }).click();
  await admin.page.waitForSelector('[data-kill="released"]', { timeout: 10000 });
  assert((await api('GET', '/v1/kill-switch', adminToken)).body.engaged.length === 0, 'the API still shows it engaged');
  noProblems(from);
});
await check('admin: stops and starts a strategy (confirmation), launches a backtest and a sweep and follows their jobs', async () => {
  const from = problems.length;
  await go(admin.page, '#/strategies');
  const dialog = admin.page.getByRole('dialog');
  await admin.page.getByRole('button', { name: 'Stop sma-spx', exact: true }).click();
  await dialog.getByRole('button', { name: 'Stop' }).click();
  await admin.page.waitForSelector('[data-status="stopped"]', { timeout: 10000 });
  const listed = (await api('GET', '/v1/strategies', adminToken)).body;
  assert(listed.find((x) => x.name === 'sma-spx').status === 'stopped', 'the API does not say sma-spx stopped');
  assert(listed.find((x) => x.name === 'sma-spx-fast').status === 'running', 'the other strategy stopped too');
  await admin.page.getByRole('button', { name: 'Start sma-spx', exact: true }).click();
  await dialog.getByRole('button', { name: 'Start' }).click();
  await admin.page.waitForSelector('[data-status="stopped"]', { state: 'detached', timeout: 10000 });
  await go(admin.page, '#/backtests');
  await admin.page.getByLabel('Config', { exact: true }).selectOption('sample.yaml');
  await admin.page.getByLabel('Run name').fill('e2e-launch');
  await admin.page.getByRole('button', { name: 'Launch backtest' }).click();
  await admin.page.waitForSelector('[data-job="succeeded"]', { timeout: 60000 });
  await admin.page.waitForSelector('a[data-run]:has-text("e2e-launch")', { timeout: 10000 });
  // A sweep: its progress counts trials, and the finished job links to the stored sweep.
  await admin.page.getByLabel('Sweep config').selectOption('sma_spx.yaml');
  await admin.page.getByLabel('Sweep id').fill('e2e-sweep');
  await admin.page.getByRole('button', { name: 'Launch sweep' }).click();
  await admin.page.waitForSelector('#card-launch-a-sweep [data-job="succeeded"]', { timeout: 120000 });
  const done = await admin.page.locator('#card-launch-a-sweep [data-job]').innerText();
  assert(done.includes('240 trials stored'), `sweep job line: ${done}`);
  const bar = await admin.page.locator('#card-launch-a-sweep progress').evaluate((p) => `${p.value}/${p.max}`);
  assert(bar === '240/240', `progress bar at ${bar}`);
  await admin.page.waitForSelector('a[data-sweep="e2e-sweep"]', { timeout: 10000 });
  if (screenshots) await admin.page.screenshot({ path: join(screenshots, 'dashboard-backtests-admin-wide.png'), fullPage: true });
  await admin.page.getByRole('link', { name: 'Open the sweep' }).click();
  await ready(admin.page);
  assert((await admin.page.locator('h1').innerText()) === 'Sweep e2e-sweep', 'not on the sweep page');
  assert((await admin.page.locator('[data-dsr]').count()) === 1, 'no DSR on the launched sweep');
  await go(admin.page, '#/');
  noProblems(from);
});
await check('live: a fill arriving over the WebSocket appears without a reload', async () => {
  const from = problems.length;
  if (!(await admin.page.evaluate(() => location.hash === '#/'))) await go(admin.page, '#/');
  await admin.page.waitForSelector('#live[data-state="open"]', { timeout: 10000 });
  await admin.page.evaluate(() => {
    window.__noReload = true;
  });
  const id = `e2e-live-${Date.now() % 1e9}`;
  const r = await api('POST', '/v1/orders', adminToken, { client_order_id: id, strategy: 'e2e', instrument: 'SPX.SIM', side: 'buy', type: 'market', quantity: '1' });
  assert([200, 201, 202].includes(r.status), `submit answered ${r.status}: ${JSON.stringify(r.body)}`);
  await admin.page.waitForSelector(`#card-recent-fills tr[data-order="${id}"]`, { timeout: 15000 });
  assert(await admin.page.evaluate(() => window.__noReload === true), 'the page reloaded');
  noProblems(from);
});
await check('admin: an open order appears live and is cancelled through the dialog', async () => {
  const from = problems.length;
  const id = `e2e-limit-${Date.now() % 1e9}`;
  const r = await api('POST', '/v1/orders', adminToken, { client_order_id: id, strategy: 'e2e', instrument: 'SPX.SIM', side: 'buy', type: 'limit', price: '1', quantity: '1' });
  assert([200, 201, 202].includes(r.status), `submit answered ${r.status}: ${JSON.stringify(r.body)}`);
  await admin.page.getByRole('button', { name: `Cancel ${id}` }).click({ timeout: 15000 });
  await admin.page.getByRole('dialog').getByRole('button', { name: 'Cancel order' }).click();
  await admin.page.waitForFunction((x) => /is (canceled|pending_cancel)/.test(document.querySelector('#card-open-orders')?.textContent ?? '') || !document.querySelector(`#card-open-orders tr[data-order="${x}"]`), id, { timeout: 10000 });
  const after = await api('GET', `/v1/orders/${id}`, adminToken);
  assert(['canceled', 'pending_cancel'].includes(after.body.status), `order is ${after.body.status}`);
  noProblems(from);
});
await admin.context.close();

// Time to first chart of the 1,000,000-bar run: navigation start → the first chart drawn.
await check(`1M-bar run: time to first chart ≤ ${FIRST_CHART_BUDGET_MS} ms`, async () => {
  const from = problems.length;
  const detail = await api('GET', '/v1/backtests/2', viewerToken);
  assert(detail.body.run.metrics.bars_processed === 1_000_000, `run 2 has ${detail.body.run.metrics.bars_processed} bars`);
  const timings = [];
  // One browser profile: the second visit is a returning user's (role remembered, run in the
  // service's memory); the first one pays the service's re-run of the million bars.
  const { context, page } = await openPage(WIDE, false, viewerToken);
  for (const label of ['cold (the service re-runs it first)', 'warm']) {
    await page.goto('about:blank');
    await page.goto(`${base}/#/backtests/2`);
    await page.waitForSelector('#run-charts[data-drawn="true"]', { timeout: 120000 });
    const { first, steps } = await page.evaluate(() => {
      const at = (re) => performance.getEntriesByType('resource').find((e) => re.test(e.name));
      const ms = (e) => (e ? `${Math.round(e.startTime)}–${Math.round(e.responseEnd)}` : '?');
      const nav = performance.getEntriesByType('navigation')[0];
      return {
        first: performance.getEntriesByName('tradepulse:first-chart')[0]?.startTime ?? NaN,
        steps: `page ${Math.round(nav?.domContentLoadedEventEnd ?? NaN)}, whoami ${ms(at(/whoami/))}, chart request ${ms(at(/\/chart\?/))} ms (${Math.round((at(/\/chart\?/)?.encodedBodySize ?? 0) / 1024)} KB)`,
      };
    });
    timings.push(first);
    console.log(`info 1M-bar run, ${label}: first chart ${Math.round(first)} ms after navigation start (${steps})`);
    await page.waitForTimeout(300);
    const ink = await inkOf(page, '#run-charts #equity');
    assert(ink > 0.01, `equity looks empty (ink ${ink.toFixed(4)})`);
    await ready(page);
  }
  await context.close();
  const warm = timings[1];
  assert(Number.isFinite(warm) && warm <= FIRST_CHART_BUDGET_MS, `first chart after ${warm} ms`);
  noProblems(from);
});

await check('no console errors or warnings on any page', async () => {
  assert(problems.length === 0, problems.join('\n'));
});

await browser.close();
console.log(`\n${passed} passed, ${failed} failed`);
if (failed) console.log(`serve log (tail):\n${serveLog.join('').slice(-2000)}`);
process.exit(failed === 0 ? 0 : 1);
