// Issue 12, item 5: a service worker opens the database as a client of the tab that owns
// it and serves an app offline out of pagedb; SW reads during a stream of commits each
// answer a committed version, in order; with no tab open the SW reads a read-only
// snapshot of the files (the last commit) and its writes fail with a typed error (ENOTSUP
// naming the cause); when a tab opens the database again the SW works through it.
import { test, expect, type Page } from '@playwright/test';
import { clearOpfs, openTab } from './tabs_util';

const SCOPE = '/tests/browser/pages/offline/';

async function swFetch(p: Page, name: string): Promise<{ status: number; body: string }> {
  return p.evaluate(async (u) => {
    const r = await fetch(u);
    return { status: r.status, body: await r.text() };
  }, SCOPE + name);
}

test('service worker: offline navigation from pagedb through the owner tab; no tab: read-only snapshot, writes ENOTSUP', async ({ page, context }) => {
  const N = Number(process.env.PAGEDB_SW_COMMITS ?? 200);
  test.setTimeout(Math.max(60_000, N * 100));
  await clearOpfs(page);
  const owner = await openTab(context, 'site');
  await owner.evaluate(async () => {
    const w = window as any;
    await w.db.write((tx: any) => {
      tx.table('pages').put('index.html', '<!doctype html><title>offline</title><h1 id="h">served by pagedb</h1>');
      tx.table('pages').put('counter', '0');
    });
    const reg = await navigator.serviceWorker.register('/tests/browser/pages/sw.js', { type: 'module', scope: '/tests/browser/pages/offline/' });
    const sw = reg.installing ?? reg.waiting ?? reg.active!;
    if (sw.state !== 'activated') await new Promise<void>((r) => sw.addEventListener('statechange', () => sw.state === 'activated' && r()));
  });
  // offline: a navigation in another tab is answered by the service worker out of pagedb
  await context.setOffline(true);
  const app = await context.newPage();
  await app.goto(SCOPE + 'index.html');
  await expect(app.locator('#h')).toHaveText('served by pagedb');
  // N commits in the owner tab during N reads by the service worker: every answer is a
  // committed version, and they never go back
  const writes = owner.evaluate(async (N) => {
    const w = window as any;
    for (let i = 1; i <= N; i++) await w.db.write((tx: any) => tx.table('pages').put('counter', String(i)));
  }, N);
  const seen = await app.evaluate(async ({ N, u }) => {
    const out: string[] = [];
    for (let i = 0; i < N; i++) out.push(await (await fetch(u)).text());
    return out;
  }, { N, u: SCOPE + 'counter' });
  await writes;
  const nums = seen.map(Number);
  for (const n of nums) expect(Number.isInteger(n) && n >= 0 && n <= N).toBe(true);
  for (let i = 1; i < nums.length; i++) expect(nums[i]).toBeGreaterThanOrEqual(nums[i - 1]);
  expect((await swFetch(app, 'counter')).body).toBe(String(N)); // read-after-commit through the SW
  // the service worker's subscription fired once per commit
  let changes = await swFetch(app, '_changes');
  for (let i = 0; i < 50 && changes.body !== String(N); i++) changes = await swFetch(app, '_changes');
  expect(changes.body).toBe(String(N));
  // no tab has the database open: the service worker reads a read-only snapshot of the
  // files (the last commit), and its writes fail with a clear typed error
  await owner.close();
  let r = await swFetch(app, 'counter');
  for (let i = 0; i < 50 && r.status !== 200; i++) r = await swFetch(app, 'counter'); // a read in flight at the close may fail once
  expect(r).toEqual({ status: 200, body: String(N) });
  const w = await swFetch(app, '_write?k=counter&v=x');
  expect(w.status).toBe(503);
  expect(JSON.parse(w.body)).toMatchObject({ codeName: 'PAGEDB_ENOTSUP' });
  expect(JSON.parse(w.body).message).toMatch(/no tab has database "site" open/);
  // a tab opens the database again (online for its page load: nothing is HTTP-cached):
  // the service worker works through it again, writes included
  await context.setOffline(false);
  const again = await openTab(context, 'site');
  await context.setOffline(true);
  let ok = await swFetch(app, '_write?k=counter&v=from-sw');
  for (let i = 0; i < 50 && ok.status !== 200; i++) {
    await new Promise((res) => setTimeout(res, 100));
    ok = await swFetch(app, '_write?k=counter&v=from-sw');
  }
  expect(ok).toEqual({ status: 200, body: 'written' });
  expect(await again.evaluate(async () => (window as any).dec(await (window as any).db.read((tx: any) => tx.table('pages').get('counter')))))
    .toBe('from-sw');
  await again.evaluate(() => (window as any).db.write((tx: any) => tx.table('pages').put('counter', 'last')));
  // closed again: the snapshot is refreshed from the files (main.pdb changed)
  await again.close();
  let last = await swFetch(app, 'counter');
  for (let i = 0; i < 50 && last.body !== 'last'; i++) last = await swFetch(app, 'counter');
  expect(last).toEqual({ status: 200, body: 'last' });
});

test('service worker cold start with no tab open: open() reads the snapshot; offline navigation served', async ({ page, context }) => {
  await clearOpfs(page);
  const tab = await openTab(context, 'site');
  await tab.evaluate(async () => {
    const w = window as any;
    await w.db.write((tx: any) => tx.table('pages').put('index.html', '<!doctype html><h1 id="h">cold start</h1>'));
    const reg = await navigator.serviceWorker.register('/tests/browser/pages/sw.js', { type: 'module', scope: '/tests/browser/pages/offline/' });
    const sw = reg.installing ?? reg.waiting ?? reg.active!;
    if (sw.state !== 'activated') await new Promise<void>((r) => sw.addEventListener('statechange', () => sw.state === 'activated' && r()));
    await w.db.close();
  });
  await tab.close();
  await context.setOffline(true);
  const app = await context.newPage();
  await app.goto(SCOPE + 'index.html'); // the service worker opens the database now, alone
  await expect(app.locator('#h')).toHaveText('cold start');
  // nobody owns the database: only the service worker's client lock is held
  expect(await app.evaluate(async () => (await navigator.locks.query()).held!.map((l) => l.name.replace(/[0-9a-f]{24}$/, 'ID'))))
    .toEqual(['pagedb:site:client:ID']);
});
