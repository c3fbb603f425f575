// Online maintenance in Chromium on OPFS (pagedb.h "Online maintenance", docs/FORMAT.md
// §12, §13): db.compact runs its steps in the engine's worker (one write transaction per
// step, js/src/database.ts), shrinks main.pdb in OPFS, an abort between steps gives
// ECANCELED and the next call resumes; db.rekey changes the key (the old one then gets
// EKEY at open).
import { test, expect } from '@playwright/test';
import { freshPageEachTest } from './app_page';

freshPageEachTest();

test('compact shrinks main.pdb in OPFS; abort mid-way, resume, same data, verifies', async ({ page }) => {
  const r = await page.evaluate(async () => {
    const { open } = (window as any).pagedb;
    const key = (window as any).key;
    const db = await open('cmp', { key });
    const k = (i: number) => `k${String(i).padStart(6, '0')}`;
    for (let b = 0; b < 5000; b += 500)
      await db.write((tx: any) => {
        for (let i = b; i < b + 500; i++) tx.table('t').put(k(i), `v${i}`.padEnd(400, 'x'));
      });
    for (let b = 0; b < 5000; b += 500)
      await db.write((tx: any) => {
        for (let i = b; i < b + 500; i++) if (i % 10 !== 0 && i < 4800) tx.table('t').delete(k(i));
      });
    const dump = async () => {
      const out: string[] = [];
      for await (const [kk, v] of db.range('t')) out.push((window as any).dec(kk) + '=' + (window as any).dec(v));
      return out.join('\n');
    };
    const before = (await db.stat()).fileBytes;
    const content = await dump();
    const ac = new AbortController();
    let n = 0;
    const aborted = await db.compact({ pagesPerStep: 16, signal: ac.signal, onProgress: () => { if (++n === 2) ac.abort(); } })
      .then(() => 'resolved', (e: any) => e.codeName);
    const mid = { same: (await dump()) === content, pages: await db.verify() };
    const steps: number[] = [];
    const done = await db.compact({ pagesPerStep: 16, onProgress: (p: any) => steps.push(p.pagesDone) });
    const after = (await db.stat()).fileBytes;
    const same = (await dump()) === content;
    const pages = await db.verify();
    await db.close();
    // the file itself, read through OPFS once the database is closed
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('cmp');
    const onDisk = (await (await dir.getFileHandle('main.pdb')).getFile()).size;
    const re = await open('cmp', { key, create: false });
    const n2 = await re.read((tx: any) => tx.table('t').count());
    await re.close();
    return { before, after, onDisk, aborted, mid, done: done.done, firstResumed: steps[0], same, pages, n2 };
  });
  expect(r.aborted).toBe('PAGEDB_ECANCELED');
  expect(r.mid.same).toBe(true);
  expect(r.mid.pages).toBeGreaterThan(0);
  expect(r.done).toBe(true);
  expect(r.firstResumed).toBeGreaterThan(0); // resumed, not started over
  expect(r.same).toBe(true);
  expect(r.pages).toBeGreaterThan(0);
  expect(r.after).toBeLessThan(r.before / 2);
  expect(r.onDisk).toBe(r.after);
  expect(r.n2).toBe(480 + 200); // every 10th key below 4800, and the 200 from 4800 on
});

test('rekey in the browser: the old key gets EKEY at open, the new one opens', async ({ page }) => {
  const r = await page.evaluate(async () => {
    const { open } = (window as any).pagedb;
    const key = (window as any).key;
    const key2 = new Uint8Array(32).fill(9);
    const db = await open('rk', { key });
    await db.write((tx: any) => tx.table('t').put('a', 'one'));
    await db.rekey({ newKey: key2 });
    await db.write((tx: any) => tx.table('t').put('b', 'two'));
    await db.close();
    const old = await open('rk', { key, create: false }).then(() => 'opened', (e: any) => e.codeName);
    const db2 = await open('rk', { key: key2, create: false });
    const n = await db2.read((tx: any) => tx.table('t').count());
    await db2.close();
    return { old, n };
  });
  expect(r).toEqual({ old: 'PAGEDB_EKEY', n: 2 });
});

test('two tabs: the client tab compacts and changes the key through the owner; a new tab needs the new key; after failover the client reopens with it', async ({ context, page }) => {
  const { clearOpfs, oneOwner, openTab } = await import('./tabs_util');
  await clearOpfs(page);
  const a = await openTab(context, 'mt');
  const b = await openTab(context, 'mt');
  const owner = await oneOwner([a, b]);
  const client = owner === a ? b : a;
  const r = await client.evaluate(async () => {
    const db = (window as any).db;
    for (let c = 0; c < 4; c++)
      await db.write((tx: any) => {
        for (let i = 0; i < 500; i++) tx.table('t').put(`k${c}-${i}`, 'v'.repeat(300));
      });
    await db.write((tx: any) => {
      for (let c = 0; c < 3; c++) for (let i = 0; i < 500; i++) tx.table('t').delete(`k${c}-${i}`);
    });
    const before = (await db.stat()).fileBytes;
    const p = await db.compact({ pagesPerStep: 32 });
    const after = (await db.stat()).fileBytes;
    await db.rekey({ newKey: new Uint8Array(32).fill(9) });
    return { before, after, done: p.done, n: await db.read((tx: any) => tx.table('t').count()) };
  });
  expect(r.done).toBe(true);
  expect(r.after).toBeLessThan(r.before / 2);
  expect(r.n).toBe(500);
  // the owner greets the new key and refuses the old one
  const withNew = await openTab(context, 'mt', '&key=9');
  expect(await withNew.evaluate(() => (window as any).openError)).toBeUndefined();
  const withOld = await openTab(context, 'mt', '&key=7');
  expect(await withOld.evaluate(() => (window as any).openError?.codeName)).toBe('PAGEDB_EKEY');
  await withOld.close();
  await withNew.close();
  // the owner goes away: the client becomes owner, opening the files with the new key
  await owner.close();
  await oneOwner([client]);
  expect(await client.evaluate(async () => (window as any).db.read((tx: any) => tx.table('t').count()))).toBe(500);
});
