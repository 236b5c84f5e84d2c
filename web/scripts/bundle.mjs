// The chart bundle committed for cargo-only builds: crates/backtest/assets/tradepulse-charts.js.
//   node scripts/bundle.mjs sync    copy the fresh build (dist/charts/) there
//   node scripts/bundle.mjs check   fail unless the committed file is byte-identical to the build
// Run `npm run build:charts` first. Both also refuse a bundle that could end the inline
// <script> element of report.html early.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(web, 'dist/charts/tradepulse-charts.js');
const committed = join(web, '../crates/backtest/assets/tradepulse-charts.js');
const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');

const mode = process.argv[2];
if (!existsSync(built)) {
  console.error(`${built} is missing: run \`npm run build:charts\` first`);
  process.exit(2);
}
const fresh = readFileSync(built);
const text = fresh.toString('utf8').toLowerCase();
for (const bad of ['</script', '<!--', '<script']) {
  if (text.includes(bad)) {
    console.error(`the bundle contains "${bad}", which would break report.html's inline <script>`);
    process.exit(1);
  }
}
if (mode === 'sync') {
  copyFileSync(built, committed);
  console.log(`copied ${fresh.length} bytes (sha256 ${sha(fresh)}) to crates/backtest/assets/`);
} else if (mode === 'check') {
  const old = existsSync(committed) ? readFileSync(committed) : Buffer.alloc(0);
  if (!old.equals(fresh)) {
    console.error(
      `crates/backtest/assets/tradepulse-charts.js (${old.length} bytes, sha256 ${sha(old)}) differs from ` +
        `the build of web/ (${fresh.length} bytes, sha256 ${sha(fresh)}): run \`npm run build:charts && npm run bundle:sync\` and commit`,
    );
    process.exit(1);
  }
  console.log(`chart bundle up to date: ${fresh.length} bytes, sha256 ${sha(fresh)}`);
} else {
  console.error('usage: node scripts/bundle.mjs sync|check');
  process.exit(2);
}
