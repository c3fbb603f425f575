// Issue 12, item 5: a service worker opens the database as a client of the tab that owns
// it and serves an app offline out of pagedb; SW reads during a stream of commits each
// answer a committed version, in order; with no tab open the SW gets a clear typed error
// (ENOTSUP naming the cause) and recovers when a tab opens the database again.
import { test, expect, type Page } from '@playwright/test';
import { clearOpfs, openTab } from './tabs_util';

const SCOPE = '/tests/browser/pages/offline/';

async function swFetch(p: Page, name: string): Promise<{ status: number; body: string }> {
  return p.evaluate(async (u) => {
    const r = await fetch(u);
    return { status: r.status, body: await r.text() };
  }, SCOPE + name);
}

test('service worker: offline navigation answered from pagedb through the owner tab; no tab: typed error', async ({ page, context }) => {
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
  // no tab has the database open: the service worker's read fails with a clear typed error
  await owner.close();
  // (a read in flight when the owner went away may fail with EMISUSE: its snapshot is gone)
  let r = await swFetch(app, 'counter');
  for (let i = 0; i < 50 && !r.body.includes('ENOTSUP'); i++) r = await swFetch(app, 'counter'); // until it noticed
  expect(r.status).toBe(503);
  expect(JSON.parse(r.body)).toMatchObject({ codeName: 'PAGEDB_ENOTSUP' });
  expect(JSON.parse(r.body).message).toMatch(/no tab has database "site" open/);
  // a tab opens the database again (online for its page load: nothing is HTTP-cached): the
  // service worker's Database re-attaches by itself
  await context.setOffline(false);
  const again = await openTab(context, 'site');
  await context.setOffline(true);
  let ok = await swFetch(app, 'counter');
  for (let i = 0; i < 50 && ok.status !== 200; i++) {
    await new Promise((res) => setTimeout(res, 100));
    ok = await swFetch(app, 'counter');
  }
  expect(ok).toEqual({ status: 200, body: String(N) });
  await again.close();
});
