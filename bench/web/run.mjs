// run.mjs — drives the browser benchmark: serves the repository root (tests/browser/server.mjs)
// on a free port, launches Debian's Chromium headless through playwright-core with a fresh
// on-disk profile (so OPFS and IndexedDB live on disk), runs every engine of engines.mjs on
// bench/web/bench.html, and writes the results JSON.
// Usage: node bench/web/run.mjs --out FILE [--n 100000] [--individual 1000] [--batches 100]
//        [--batch-size 1000] [--ranges 10000] [--cache-mib 128] [--engines a,b,...]
//        [--cpu-profile-out FILE]
// Engines: those of engines.mjs; pagedb-tab-client uses a second tab (secondTab below);
// hop-baseline measures the floors under an awaited call (engines.mjs hopBaseline);
// profile-promise-page and profile-promise-worker profile awaited gets from the page and in a
// dedicated worker, profile-removals-page/-worker the removals phase (one write transaction of
// N/2 deletes) from the page or in a worker (profilePage below; raw .cpuprofile files go to --cpu-profile-out PREFIX).
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

// profile-promise-page / profile-promise-worker: Chrome's sampling profiler (CDP Profiler
// domain through a playwright-core CDPSession on the page; dedicated workers through that
// session's Target.setAutoAttach and Target.sendMessageToTarget) on the page's main thread and
// every dedicated worker while PROFILE_GETS gets are awaited one at a time through pagedb's
// promise API, from the page (engine in pagedb's worker) or inside a dedicated worker that owns
// the database (engine in that worker). The database is opened and loaded first, outside the
// profile. Returns µs per get (profiled) and, per thread, the self time per function ('(idle)':
// the thread waits, e.g. the page for the worker's answers).
const PROFILE_GETS = 5000;
async function profilePage(page, o, where, what = 'gets') {
  await page.evaluate(([o, w]) => window.latencyPrepare(o, w), [o, where]);
  const cdp = await ctx.newCDPSession(page);
  const workers = [];
  let nextId = 1;
  const pending = new Map();
  cdp.on('Target.attachedToTarget', (e) => { if (e.targetInfo.type === 'worker') workers.push({ sid: e.sessionId, url: e.targetInfo.url }); });
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    if (pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); }
  });
  const wsend = (sid, method, params = {}) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
    cdp.send('Target.sendMessageToTarget', { sessionId: sid, message: JSON.stringify({ id, method, params }) }).catch(reject);
  });
  const threads = [];
  let usPerGet, count = PROFILE_GETS;
  try {
    await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    for (let i = 0; i < 20 && workers.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
    for (const w of workers) {
      await wsend(w.sid, 'Profiler.enable');
      await wsend(w.sid, 'Profiler.setSamplingInterval', { interval: 50 });
    }
    await cdp.send('Profiler.start');
    for (const w of workers) await wsend(w.sid, 'Profiler.start');
    if (what === 'removals') ({ count, usPerOp: usPerGet } = await page.evaluate(() => window.latencyRemove()));
    else usPerGet = await page.evaluate((n) => window.latencyRun(n), PROFILE_GETS);
    threads.push({ thread: 'page (main thread)', profile: (await cdp.send('Profiler.stop')).profile });
    for (const w of workers) threads.push({ thread: `worker ${w.url.replace(/^.*\/(?=[^/]+$)/, '')}`, profile: (await wsend(w.sid, 'Profiler.stop')).profile });
  } finally {
    await cdp.send('Target.setAutoAttach', { autoAttach: false, waitForDebuggerOnStart: false }).catch(() => undefined);
    await cdp.detach().catch(() => undefined);
    await page.evaluate(() => window.latencyClose());
  }
  if (profileOut) for (const [i, t] of threads.entries()) fs.writeFileSync(`${profileOut}.${where}-${what}.${i}.cpuprofile`, JSON.stringify(t.profile));
  // for removals: gets = the number of deletes and usPerGet = µs per delete (one transaction)
  return { where, what, gets: count, usPerGet, samplingIntervalUs: 50, threads: threads.map((t) => ({ thread: t.thread, ...selfTimes(t.profile, count) })) };
}
/** Self time per function of a CDP profile: total sampled ms and the top 25 (ms, share, µs per op of `ops`). */
function selfTimes(prof, ops) {
  const byId = new Map(prof.nodes.map((nd) => [nd.id, nd]));
  const self = new Map();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0, cf = byId.get(id).callFrame;
    const where = cf.url ? ` ${cf.url.replace(/^.*\/(?=[^/]+$)/, '')}:${cf.lineNumber + 1}` : '';
    const k = `${cf.functionName || '(anonymous)'}${where}`;
    self.set(k, (self.get(k) ?? 0) + dt);
    total += dt;
  });
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)
    .map(([fn, us]) => ({ fn, ms: +(us / 1000).toFixed(2), share: +(us / total).toFixed(4), usPerGet: +(us / ops).toFixed(2) }));
  return { sampledMs: +(total / 1000).toFixed(1), top };
}
const profileOut = arg('cpu-profile-out', '');

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
      else if (e === 'hop-baseline') results[e] = await page.evaluate(() => window.hopBaseline());
      else if (e === 'profile-promise-page') results[e] = await profilePage(page, opts, 'page');
      else if (e === 'profile-promise-worker') results[e] = await profilePage(page, opts, 'worker');
      else if (e === 'profile-removals-page') results[e] = await profilePage(page, opts, 'page', 'removals');
      else if (e === 'profile-removals-worker') results[e] = await profilePage(page, opts, 'worker', 'removals');
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
