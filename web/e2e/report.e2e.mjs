// Browser test of report.html: Debian's Chromium, driven by playwright-core, opens a report that
// `tradepulse backtest` wrote, offline, and checks that every chart draws, the crosshair and the
// keyboard move the legend, times are local with UTC beside them, phone and wide layouts fit,
// and the page logs no error or warning. A second page checks the strategy-indicator overlays
// with the same bundle. Prints "N passed, N failed" and exits non-zero on any failure.
//
//   node e2e/report.e2e.mjs --report OUT/report.html [--report OTHER.html] [--screenshots DIR]
//
// CHROMIUM overrides the browser path (default /usr/bin/chromium).

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const reports = [];
let screenshots = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--report') reports.push(resolve(args[++i]));
  else if (args[i] === '--screenshots') screenshots = resolve(args[++i]);
  else {
    console.error(`unknown argument ${args[i]}`);
    process.exit(2);
  }
}
if (reports.length === 0) {
  console.error('usage: node e2e/report.e2e.mjs --report PATH/report.html [--screenshots DIR]');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.error(`${executablePath} is missing: apt-get install -y chromium`);
  process.exit(2);
}

const TIME_ZONE = 'America/New_York';
const WIDE = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

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
// Polls until `read()` gives a value `done` accepts, or the deadline passes: the charts redraw
// on the next animation frame, which a loaded CI machine can delay well past a fixed sleep.
async function until(read, done, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

/** A page that records console errors/warnings, page errors and any non-file request. */
async function openPage(viewport, mobile) {
  const context = await browser.newContext({
    viewport,
    deviceScaleFactor: 1,
    isMobile: mobile,
    hasTouch: mobile,
    timezoneId: TIME_ZONE,
    locale: 'en-US',
    offline: true,
  });
  const problems = [];
  const requests = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:') || url === 'about:blank') return route.continue();
    requests.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console.${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return { context, page, problems, requests };
}

/** Share of non-background pixels over the canvases of `selector` (0..1). */
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
        // Transparent (top layer) or white background pixels are not ink.
        if (data[i + 3] > 0 && (data[i] < 235 || data[i + 1] < 235 || data[i + 2] < 235)) ink++;
      }
    }
    return total ? ink / total : 0;
  }, selector);
}

const legendText = (page, section) => page.locator(`#${section} .tp-legend`).first().innerText();

for (const report of reports) {
  const url = pathToFileURL(report).href;
  const short = report.split('/').slice(-2).join('/');
  const payload = (() => {
    const html = readFileSync(report, 'utf8');
    const open = '<script type="application/json" id="tradepulse-report">';
    const start = html.indexOf(open) + open.length;
    return JSON.parse(html.slice(start, html.indexOf('</script>', start)));
  })();
  const panel = (kind) => payload.panels.find((p) => p.kind === kind);

  const wide = await openPage(WIDE, false);
  let timing = { first: NaN, done: NaN };
  await check(`${short}: opens offline and renders every panel`, async () => {
    await wide.page.goto(url);
    await wide.page.waitForSelector('#charts[data-rendered="true"]', { timeout: 15000 });
    // Milliseconds from navigation start, as the page's own performance timeline has them.
    timing = await wide.page.evaluate(() => ({
      first: performance.getEntriesByName('tradepulse:first-chart')[0]?.startTime ?? NaN,
      done: performance.getEntriesByName('tradepulse:charts-done')[0]?.startTime ?? NaN,
    }));
    assert(timing.first < 5000, `first chart after ${timing.first} ms`);
    for (const id of ['equity', 'candles', 'monthly-returns', 'trade-pnl']) {
      assert((await wide.page.locator(`section#${id}`).count()) === 1, `section #${id} missing`);
    }
    assert((await wide.page.locator('.tp-error').count()) === 0, 'a panel shows an error');
  });
  await check(`${short}: charts draw (canvas ink)`, async () => {
    // Let the charts paint their first frame.
    await wide.page.waitForTimeout(300);
    for (const id of ['equity', 'candles']) {
      const ink = await inkOf(wide.page, `#${id}`);
      assert(ink > 0.01, `#${id} canvases look empty (ink ${ink.toFixed(4)})`);
    }
    if (panel('trade_pnl').pnl.length > 0) {
      const ink = await inkOf(wide.page, '#trade-pnl');
      assert(ink > 0.005, `#trade-pnl canvases look empty (ink ${ink.toFixed(4)})`);
    }
  });
  await check(`${short}: monthly heatmap has a row per year`, async () => {
    const rows = await wide.page.locator('#monthly-returns tbody tr').count();
    assert(rows === panel('monthly_returns').years.length, `${rows} rows`);
  });
  await check(`${short}: crosshair shows values at the pointer, local time with UTC`, async () => {
    const before = await legendText(wide.page, 'equity');
    assert(before.includes(TIME_ZONE) && before.includes('UTC'), `legend: ${before}`);
    // The summary above can push the chart below the fold: a pointer outside the viewport
    // reaches nothing, so bring the chart into view first.
    const equity = wide.page.locator('#equity .tp-chart');
    await equity.scrollIntoViewIfNeeded();
    const box = await equity.boundingBox();
    await wide.page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
    const during = await until(() => legendText(wide.page, 'equity'), (text) => text !== before);
    assert(during !== before, 'legend did not follow the pointer');
    assert(/equity\s+[\d,]+\.\d\d/.test(during), `no equity value: ${during}`);
    // The local time is New York's: 4 or 5 hours behind the UTC time shown beside it.
    const m = during.match(/(\d{4}-\d\d-\d\d \d\d:\d\d) · UTC (\d{4}-\d\d-\d\d \d\d:\d\d)/);
    assert(m, `no "local · UTC" time: ${during}`);
    const diff = (Date.parse(`${m[2]}Z`) - Date.parse(`${m[1]}Z`)) / 3600000;
    assert(diff === 4 || diff === 5, `New York is ${diff} h behind UTC?`);
  });
  await check(`${short}: keyboard moves the crosshair and zooms`, async () => {
    // The pointer off every chart: a crosshair following it would override the keyboard's
    // (focusing the chart scrolls the page under a pointer that stays where it was).
    await wide.page.mouse.move(0, 0);
    const chart = wide.page.locator('#candles .tp-chart');
    await chart.scrollIntoViewIfNeeded();
    await chart.focus();
    await wide.page.keyboard.press('Home');
    const first = await legendText(wide.page, 'candles');
    const t0 = panel('candles').time[0];
    const utc0 = new Date(t0 * 1000).toISOString().slice(0, 16).replace('T', ' ');
    assert(first.includes(`UTC ${utc0}`), `Home: expected UTC ${utc0} in ${first}`);
    await wide.page.keyboard.press('ArrowRight');
    const second = await until(() => legendText(wide.page, 'candles'), (text) => text !== first);
    assert(second !== first, 'ArrowRight did not move the crosshair');
    const shot = await chart.screenshot();
    for (let i = 0; i < 4; i++) await wide.page.keyboard.press('+');
    const zoomed = await until(() => chart.screenshot(), (png) => !shot.equals(png));
    assert(!shot.equals(zoomed), '+ did not zoom');
    await wide.page.keyboard.press('0');
    // A long run hides its markers until few are in view; zooming in brings them back.
    const hint = wide.page.locator('#candles .tp-hint');
    if ((await hint.innerText()).length > 0) {
      for (let i = 0; i < 25 && (await hint.innerText()).length > 0; i++) await wide.page.keyboard.press('+');
      assert((await hint.innerText()) === '', `markers still hidden: ${await hint.innerText()}`);
      await wide.page.keyboard.press('0');
    }
    // The toolbar buttons are reachable and named.
    for (const name of ['Zoom in', 'Zoom out', 'Show everything']) {
      assert((await wide.page.getByRole('button', { name }).count()) >= 2, `button ${name}`);
    }
  });
  await check(`${short}: no console errors or warnings, nothing fetched`, async () => {
    assert(wide.problems.length === 0, wide.problems.join('\n'));
    assert(wide.requests.length === 0, `requests: ${wide.requests.join(', ')}`);
  });
  if (screenshots) {
    mkdirSync(screenshots, { recursive: true });
    await wide.page.mouse.move(0, 0);
    await wide.page.evaluate(() => document.activeElement?.blur());
    await wide.page.screenshot({ path: join(screenshots, 'report-wide.png'), fullPage: true });
  }
  await wide.context.close();

  const phone = await openPage(PHONE, true);
  await check(`${short}: phone width renders without sideways scrolling`, async () => {
    await phone.page.goto(url);
    await phone.page.waitForSelector('#charts[data-rendered="true"]', { timeout: 15000 });
    await phone.page.waitForTimeout(300);
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 1, `page is ${overflow}px wider than the screen`);
    const ink = await inkOf(phone.page, '#candles');
    assert(ink > 0.01, `candles look empty on a phone (ink ${ink.toFixed(4)})`);
    assert(phone.problems.length === 0, phone.problems.join('\n'));
  });
  if (screenshots) await phone.page.screenshot({ path: join(screenshots, 'report-phone.png'), fullPage: true });
  await phone.context.close();
  console.log(
    `info ${short}: ${(readFileSync(report).length / 1e6).toFixed(2)} MB; from navigation start: ` +
      `first chart ${Math.round(timing.first)} ms, all charts ${Math.round(timing.done)} ms`,
  );
}

// Indicator overlays, from a payload the test writes, with the committed bundle.
await check('indicators: overlays and own panes draw exactly the given values', async () => {
  const bundle = readFileSync(join(here, '../../crates/backtest/assets/tradepulse-charts.js'), 'utf8');
  const n = 300;
  const t0 = Date.UTC(2024, 2, 1) / 1000;
  const time = Array.from({ length: n }, (_, i) => t0 + i * 3600);
  const close = time.map((_, i) => 100 + 10 * Math.sin(i / 20));
  const payload = {
    schema: 1,
    title: 'indicator test',
    panels: [
      {
        kind: 'candles',
        id: 'candles',
        title: 'Price',
        instrument: 'X.SIM',
        time,
        open: close.map((c) => c - 0.5),
        high: close.map((c) => c + 1),
        low: close.map((c) => c - 1),
        close,
        volume: close.map(() => 10),
        bars_per_candle: 1,
        source_bars: n,
        markers: { time: [time[30]], side: ['buy'], role: ['entry'], count: [1], quantity: [2], price: [close[30]] },
        indicators: [
          { name: 'sma(5)', pane: 'price', time, value: close.map((c, i) => (i < 4 ? null : c + 0.25)) },
          { name: 'entropy', pane: 'own', time, value: close.map((_, i) => (i < 10 ? null : 0.5 + i / 1000)) },
        ],
      },
      { kind: 'future_panel', id: 'later', title: 'A later kind' },
    ],
  };
  const html = `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><div id="charts"></div>
<script type="application/json" id="p">${JSON.stringify(payload).replace(/</g, '\\u003c')}</script>
<script>${bundle}</script><script>TradePulseCharts.renderEmbedded('charts', 'p');</script></body></html>`;
  const { context, page, problems } = await openPage(WIDE, false);
  await page.setContent(html);
  await page.waitForSelector('#charts[data-rendered="true"]');
  await page.waitForTimeout(200);
  const chart = page.locator('#candles .tp-chart');
  await chart.focus();
  await page.keyboard.press('Home');
  for (let i = 0; i < 30; i++) await page.keyboard.press('ArrowRight');
  const legend = await legendText(page, 'candles');
  const want = (close[30] + 0.25).toFixed(2);
  assert(legend.includes(`sma(5) ${want}`), `sma(5) ${want} not in: ${legend}`);
  assert(legend.includes('entropy 0.53'), `entropy not in: ${legend}`);
  assert(legend.includes('buy entry'), `marker not in: ${legend}`);
  // Two panes for candles + entropy + volume: three price-axis canvases at least.
  assert((await page.locator('#candles table tr').count()) >= 3, 'expected three panes');
  assert((await page.locator('#later').innerText()).includes('cannot show "future_panel"'), 'unknown kind notice');
  assert(problems.length === 0, problems.join('\n'));
  await context.close();
});

await browser.close();
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
