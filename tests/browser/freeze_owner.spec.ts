// Issue 12, item 1: a frozen owner (CDP Page.setWebLifecycleState frozen) gives the
// database up — worker, handles, locks — and another tab becomes the owner; when the
// frozen tab resumes it is a client of the new owner and sees its commits.
import { test, expect } from '@playwright/test';
import { oneOwner, withOwnChromium } from './tabs_util';

test('owner frozen: ownership moves to the other tab; resumed, it is a client that sees the new commits', async ({ baseURL }) => {
  await withOwnChromium(async (context) => {
    const open = async (q: string) => {
      const p = await context.newPage();
      await p.goto(`${baseURL}${q}`);
      await p.waitForFunction(() => (window as any).ready === true);
      return p;
    };
    const start = await open('/tests/browser/pages/app.html');
    await start.evaluate(() => (window as any).clearOpfs());
    await start.close();
    const a = await open('/tests/browser/pages/tabs.html?db=frozen');
    const b = await open('/tests/browser/pages/tabs.html?db=frozen');
    expect(await oneOwner([a, b])).toBe(a);
    await b.evaluate(() => (window as any).db.write((tx: any) => tx.table('t').put('k', 'A')));
    // a write transaction of the owner tab open across the freeze: nothing of it lands
    await a.evaluate(() => {
      const w = window as any;
      w.pending = w.db.write(async (tx: any) => {
        tx.table('t').put('lost', 'x');
        await tx.table('t').get('k');
        await new Promise((r) => setTimeout(r, 300));
      }).then(() => 'committed', (e: any) => e.codeName);
    });
    const cdp = await context.newCDPSession(a);
    const t0 = Date.now();
    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    await b.waitForFunction(() => (window as any).owner(), undefined, { timeout: 10_000 });
    const took = Date.now() - t0;
    expect(await b.evaluate(async () => {
      const w = window as any;
      await w.db.write((tx: any) => tx.table('t').put('k', 'B'));
      return w.dec(await w.db.read((tx: any) => tx.table('t').get('k')));
    })).toBe('B');
    await cdp.send('Page.setWebLifecycleState', { state: 'active' });
    expect(await a.evaluate(() => (window as any).pending)).toBe('PAGEDB_EMISUSE');
    expect(await a.evaluate(async () => {
      const w = window as any;
      return [w.owner(), w.dec(await w.db.read((tx: any) => tx.table('t').get('k'))), await w.db.read((tx: any) => tx.table('t').get('lost'))];
    })).toEqual([false, 'B', undefined]);
    // the resumed tab writes through the new owner, and its subscription saw b's commit
    await a.evaluate(() => (window as any).db.write((tx: any) => tx.table('t').put('k2', 'from a')));
    expect(await b.evaluate(async () => (window as any).dec(await (window as any).db.read((tx: any) => tx.table('t').get('k2'))))).toBe('from a');
    expect(await oneOwner([a, b])).toBe(b);
    console.log(`frozen owner: ownership moved in ${took} ms`);
  });
});
