// Benchmark (not a test; runs only with PAGEDB_BENCH=1): the cost of reaching the database
// from a second tab through the owner (tabs.ts) beside the owner tab's own figures.
//   PAGEDB_BENCH=1 PAGEDB_TEST_PORT=8799 npx playwright test -c tests/browser/playwright.config.ts bench_tabs
// Workload on 10,000 keys of 100-byte values: 2,000 point reads each awaited, 20,000 point
// reads issued at once (coalesced), 200 one-put commits each awaited. Prints ops/s per tab
// and the owner/client ratio.
import { test } from '@playwright/test';
import { clearOpfs, oneOwner, openTab } from './tabs_util';

test.skip(!process.env.PAGEDB_BENCH, 'benchmark: set PAGEDB_BENCH=1');

test('bench: owner tab vs a second tab through the owner', async ({ page, context }) => {
  test.setTimeout(120_000);
  await clearOpfs(page);
  const a = await openTab(context, 'bench');
  const b = await openTab(context, 'bench');
  const owner = await oneOwner([a, b]);
  const client = owner === a ? b : a;
  await owner.evaluate(async () => {
    const w = window as any;
    await w.db.write((tx: any) => {
      for (let i = 0; i < 10000; i++) tx.table('t').put(`k${String(i).padStart(5, '0')}`, 'x'.repeat(100));
    });
  });
  const run = (p: typeof a) => p.evaluate(async () => {
    const db = (window as any).db, key = (i: number) => `k${String((i * 7919) % 10000).padStart(5, '0')}`;
    let t0 = performance.now();
    for (let i = 0; i < 2000; i++) await db.read((tx: any) => tx.table('t').get(key(i)));
    const awaitedReads = 2000 / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    await Promise.all(Array.from({ length: 20000 }, (_, i) => db.read((tx: any) => tx.table('t').get(key(i)))));
    const batchedReads = 20000 / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    for (let i = 0; i < 200; i++) await db.write((tx: any) => tx.table('u').put(`c${i}`, 'v'));
    const commits = 200 / ((performance.now() - t0) / 1000);
    return { awaitedReads: Math.round(awaitedReads), batchedReads: Math.round(batchedReads), commits: Math.round(commits) };
  });
  const o = await run(owner), c = await run(client);
  const ratio = Object.fromEntries(Object.keys(o).map((k) => [k, ((o as any)[k] / (c as any)[k]).toFixed(2)]));
  console.log(JSON.stringify({ owner: o, secondTab: c, ownerOverSecondTab: ratio }));
});
