// run.mjs — drives the browser benchmark: serves the repository root (tests/browser/server.mjs)
// on a free port, launches Debian's Chromium headless through playwright-core with a fresh
// on-disk profile (so OPFS and IndexedDB live on disk), runs every engine of engines.mjs on
// bench/web/bench.html, and writes the results JSON.
// Usage: node bench/web/run.mjs --out FILE [--n 100000] [--individual 1000] [--batches 100]
//        [--batch-size 1000] [--ranges 10000] [--cache-mib 128] [--engines a,b,...]
// Engines: those of engines.mjs; pagedb-tab-client uses a second tab (secondTab below).
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const opts = {
  n: Number(arg('n', 100000)), individual: Number(arg('individual', 1000)), batches: Number(arg('batches', 100)),
  batchSize: Number(arg('batch-size', 1000)), ranges: Number(arg('ranges', 10000)), rangeLen: 10,
  cacheBytes: Number(arg('cache-mib', 128)) * 1024 * 1024,
};
const engines = arg('engines', 'pagedb-worker,pagedb-promise,sqlite-wasm,indexeddb').split(',');
const out = arg('out', 'bench/results/web.json');

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  s.on('error', reject);
});

const port = await freePort();
const server = spawn(process.execPath, [path.join(root, 'tests/browser/server.mjs')], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve, reject) => {
  server.stdout.on('data', (b) => { if (String(b).includes('serving')) resolve(); });
  server.on('exit', (c) => reject(new Error(`server exited ${c}`)));
});
// pagedb-tab-client: the first tab opens the database (and owns it), a second tab of the same
// browser context runs the promise-API workload as its client, the owner tab closes it after.
async function secondTab(owner, o) {
  await owner.evaluate((o) => window.openOwner(o), o);
  const client = await ctx.newPage();
  try {
    client.setDefaultTimeout(0);
    client.on('console', (m) => { if (m.type() === 'error' || m.type() === 'log') console.log(`[second tab] ${m.text()}`); });
    await client.goto(`http://127.0.0.1:${port}/bench/web/bench.html`);
    await client.waitForFunction(() => window.ready === true);
    const r = await client.evaluate((o) => window.runEngine('pagedb-tab-client', o), o);
    r.fileBytes = await owner.evaluate(() => window.closeOwner());
    return r;
  } finally {
    await client.close();
  }
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-webbench-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
});
const results = {};
let failed = false;
try {
  const page = ctx.pages()[0] ?? await ctx.newPage();
  page.setDefaultTimeout(0);
  page.on('console', (m) => { if (m.type() === 'error') console.error('[page]', m.text()); });
  await page.goto(`http://127.0.0.1:${port}/bench/web/bench.html`);
  await page.waitForFunction(() => window.ready === true);
  page.on('console', (m) => { if (m.type() === 'log') console.log(m.text()); });
  for (const e of engines) {
    try {
      if (e === 'pagedb-tab-client') results[e] = await secondTab(page, opts);
      else results[e] = await page.evaluate(([e, o]) => window.runEngine(e, o), [e, opts]);
    } catch (err) {
      failed = true;
      console.error(`${e} failed: ${err.message}`);
      results[e] = { error: String(err.message).split('\n')[0] };
    }
  }
  var browserVersion = ctx.browser()?.version() ?? execFileSync('/usr/bin/chromium', ['--version']).toString().trim();
} finally {
  await ctx.close();
  server.kill();
  fs.rmSync(profile, { recursive: true, force: true });
}
const pkg = (p) => JSON.parse(fs.readFileSync(path.join(root, p), 'utf8')).version;
const doc = {
  kind: 'web',
  date: new Date().toISOString(),
  machine: `${os.cpus().length} CPU (${os.cpus()[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}`,
  browser: `Chromium ${browserVersion} headless (Debian /usr/bin/chromium, playwright-core ${pkg('node_modules/playwright-core/package.json')})`,
  sqliteWasm: pkg('node_modules/@sqlite.org/sqlite-wasm/package.json'),
  workload: opts,
  results,
};
fs.writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
console.log(`wrote ${out}`);
process.exit(failed ? 1 : 0);
