// Issue 12, item 4: filling OPFS to the origin's quota gives EFULL and leaves the database
// exactly at its last commit; freeing space makes writes work again. The quota is really
// small: CDP Storage.overrideQuotaForOrigin (Chromium's own quota enforcement of OPFS
// writes: QuotaExceededError from the sync access handle). db.storage() and
// requestPersistence() report what the browser says.
import { test, expect } from '@playwright/test';
import { clearOpfs, openTab } from './tabs_util';

test('quota exhausted: EFULL, database intact at its last commit, writes work again after freeing space', async ({ page, context, baseURL }) => {
  await clearOpfs(page);
  // ballast: 4 MiB in another OPFS file of the origin, deleted later to free space
  await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const w = await (await root.getFileHandle('ballast', { create: true })).createWritable();
    await w.write(new Uint8Array(4 << 20).fill(1));
    await w.close();
  });
  const tab = await openTab(context, 'quota');
  await tab.evaluate(() => (window as any).db.write((tx: any) => tx.table('t').put('first', 'x')));
  const usage = await tab.evaluate(async () => (await navigator.storage.estimate()).usage!);
  const cdp = await context.newCDPSession(tab);
  const origin = new URL(baseURL!).origin;
  await cdp.send('Storage.overrideQuotaForOrigin' as any, { origin, quotaSize: usage + (1 << 20) });
  const r = await tab.evaluate(async () => {
    const w = window as any, db = w.db, value = new Uint8Array(64 * 1024).fill(7);
    let committed = 0, error = '';
    const before = await db.storage();
    for (let i = 0; i < 200; i++) {
      try {
        await db.write((tx: any) => tx.table('t').put(`k${String(i).padStart(4, '0')}`, value));
        committed++;
      } catch (e: any) {
        error = e.codeName;
        break;
      }
    }
    // exactly the committed keys, and the database verifies
    const n = await db.table('t').count();
    const pages = await db.verify();
    const again = await db.write((tx: any) => tx.table('t').put('more', value)).then(() => 'ok', (e: any) => e.codeName);
    return { committed, error, n, pages, again, before };
  });
  expect(r.error).toBe('PAGEDB_EFULL');
  expect(r.committed).toBeGreaterThan(0);
  expect(r.committed).toBeLessThan(20); // 1 MiB of headroom, 64 KiB values
  expect(r.n).toBe(r.committed + 1);
  expect(r.pages).toBeGreaterThan(0);
  expect(r.again).toBe('PAGEDB_EFULL');
  // estimate() keeps reporting the unoverridden quota in Chromium; the figures are the browser's
  expect(typeof r.before.quota).toBe('number');
  expect(typeof r.before.usage).toBe('number');
  expect(r.before.mainBytes).toBeGreaterThan(0);
  // free space (delete the ballast): writes work again, nothing was lost
  const after = await tab.evaluate(async () => {
    const w = window as any, db = w.db;
    await (await navigator.storage.getDirectory()).removeEntry('ballast');
    await db.write((tx: any) => tx.table('t').put('more', new Uint8Array(64 * 1024).fill(8)));
    return { n: await db.table('t').count(), pages: await db.verify(), persist: typeof (await w.pagedb.requestPersistence()) };
  });
  expect(after.n).toBe(r.committed + 2);
  expect(after.pages).toBeGreaterThan(0);
  expect(after.persist).toBe('boolean');
  // and the state survives a reopen (the owner closes, a new owner opens the files)
  await tab.reload();
  await tab.waitForFunction(() => (window as any).ready === true);
  expect(await tab.evaluate(async () => [await (window as any).db.table('t').count(), await (window as any).db.verify() > 0]))
    .toEqual([r.committed + 2, true]);
});
