// db.compact in the lazily loaded full module, in Chromium on OPFS: the first-load module
// (dist/pagedb.wasm) is built with -DPAGEDB_NO_COMPACT (scripts/build-emscripten.sh), so the
// first compaction step loads dist/pagedb-full.wasm into the owner's worker and switches the
// open database to it (js/src/rotate_engine.ts, the same switch as db.rotateKeys). A
// database compacted there, or left mid-compaction (aborted at a table-walk step, and after
// the shrink with the truncation still pending), is opened by the next page's first-load
// module, read in full, written, and the next db.compact resumes to completion. A read
// transaction open in another tab blocks the switch: EBUSY after busyTimeout, success once
// it ends.
import { test, expect, type Page } from '@playwright/test';
import { freshPageEachTest, load } from './app_page';
import { openTab } from './tabs_util';

freshPageEachTest();

/** In the page: create `name` with n rows (~300 B) in table t, delete 7 of every 8 but the last 100, close. */
async function fillAndThin(page: Page, name: string, n: number): Promise<void> {
  await page.evaluate(async ({ name, n }) => {
    const w = window as any;
    const db = await w.pagedb.open(name, { key: w.key });
    const k = (i: number) => `k${String(i).padStart(6, '0')}`;
    for (let b = 0; b < n; b += 500)
      await db.write((tx: any) => {
        for (let i = b; i < Math.min(n, b + 500); i++) tx.table('t').put(k(i), `v${i}:`.padEnd(300, String(i % 10)));
      });
    for (let b = 0; b < n; b += 500)
      await db.write((tx: any) => {
        for (let i = b; i < Math.min(n, b + 500); i++) if (i % 8 !== 0 && i < n - 100) tx.table('t').delete(k(i));
      });
    await db.close();
  }, { name, n });
}

/**
 * In a freshly loaded page (the first-load module): open `name`, check every kept row of
 * table t by get and by range, write 20 rows to table w, verify; returns what it found.
 */
async function readAllFresh(page: Page, name: string, n: number): Promise<{ wrong: number; count: number; pages: number }> {
  await load(page);
  return page.evaluate(async ({ name, n }) => {
    const w = window as any;
    let db: any;
    for (let i = 0; ; i++) {
      try {
        db = await w.pagedb.open(name, { key: w.key, create: false });
        break;
      } catch (e: any) {
        if (e.codeName !== 'PAGEDB_EBUSY' || i > 100) throw e;
        await new Promise((res) => setTimeout(res, 100)); // a closed page's handles go away
      }
    }
    const k = (i: number) => `k${String(i).padStart(6, '0')}`;
    let wrong = 0, count = 0;
    await db.read(async (tx: any) => {
      for (let i = 0; i < n; i++) {
        if (i % 8 !== 0 && i < n - 100) continue;
        const v = await tx.table('t').get(k(i));
        if (!v || w.dec(v) !== `v${i}:`.padEnd(300, String(i % 10))) wrong++;
      }
    });
    for await (const _ of db.range('t')) count++;
    await db.write((tx: any) => {
      for (let i = 0; i < 20; i++) tx.table('w').put(`n${i}`, 'y'.repeat(200));
    });
    const pages = await db.verify();
    await db.close();
    return { wrong, count, pages };
  }, { name, n });
}

const kept = (n: number) => Math.ceil((n - 100) / 8) + 100;

test('compacted in the full module, then opened by the first-load module of the next page: every value reads', async ({ page }) => {
  await fillAndThin(page, 'cf1', 4000);
  const r = await page.evaluate(async () => {
    const w = window as any;
    const db = await w.pagedb.open('cf1', { key: w.key, create: false });
    const before = (await db.stat()).fileBytes;
    const p = await db.compact({ pagesPerStep: 32 });
    const after = (await db.stat()).fileBytes;
    await db.close();
    return { before, after, done: p.done };
  });
  expect(r.done).toBe(true);
  expect(r.after).toBeLessThan(r.before / 2);
  const f = await readAllFresh(page, 'cf1', 4000);
  expect(f).toEqual({ wrong: 0, count: kept(4000), pages: f.pages });
  expect(f.pages).toBeGreaterThan(0);
});

for (const at of [1, 5]) {
  test(`left mid-compaction (aborted before phase ${at}): the next page's first-load module reads and writes it; compact resumes to completion`, async ({ page }) => {
    await fillAndThin(page, `cf2${at}`, 4000);
    const r = await page.evaluate(async (at) => {
      const w = window as any;
      const db = await w.pagedb.open(`cf2${at}`, { key: w.key, create: false });
      const before = (await db.stat()).fileBytes;
      const ac = new AbortController();
      let last: any;
      // phase = the phase the next step runs (at 1: the table walk is still under way)
      const aborted = await db.compact({ pagesPerStep: at === 1 ? 4 : 16, signal: ac.signal, onProgress: (p: any) => {
        last = p;
        if (p.phase === at && (at !== 1 || p.steps >= 2)) ac.abort();
      } }).then(() => 'resolved', (e: any) => e.codeName);
      const st = await db.stat();
      await db.close();
      return { before, aborted, phase: last.phase, longer: st.fileBytes > last.pageCount * st.pageSize };
    }, at);
    expect(r.aborted).toBe('PAGEDB_ECANCELED');
    expect(r.phase).toBe(at);
    if (at === 5) expect(r.longer).toBe(true); // shrunk in the header, the file not cut yet
    const f = await readAllFresh(page, `cf2${at}`, 4000);
    expect(f).toEqual({ wrong: 0, count: kept(4000), pages: f.pages });
    const d = await page.evaluate(async (at) => {
      const w = window as any;
      const db = await w.pagedb.open(`cf2${at}`, { key: w.key, create: false });
      const seen: any[] = [];
      const p = await db.compact({ pagesPerStep: 16, onProgress: (q: any) => seen.push(q) });
      const st = await db.stat();
      const nw = await db.read((tx: any) => tx.table('w').count());
      const pages = await db.verify();
      await db.close();
      return { done: p.done, first: seen[0], fileBytes: st.fileBytes, pageBytes: p.pageCount * st.pageSize, nw, pages };
    }, at);
    expect(d.done).toBe(true);
    if (at === 1) expect(d.first.pagesDone).toBeGreaterThan(0); // resumed, not started over
    expect(d.fileBytes).toBe(d.pageBytes);
    expect(d.fileBytes).toBeLessThan(r.before / 2);
    expect(d.nw).toBe(20);
    expect(d.pages).toBeGreaterThan(0);
    const g = await readAllFresh(page, `cf2${at}`, 4000);
    expect(g).toEqual({ wrong: 0, count: kept(4000), pages: g.pages });
  });
}

test('compact while another tab holds a read transaction: EBUSY after busyTimeout, success once it ends', async ({ context }) => {
  const a = await openTab(context, 'cf3');
  await a.evaluate(async () => {
    const w = window as any;
    for (let b = 0; b < 3000; b += 500)
      await w.db.write((tx: any) => {
        for (let i = b; i < b + 500; i++) tx.table('t').put(`k${String(i).padStart(6, '0')}`, 'v'.repeat(300));
      });
    await w.db.write((tx: any) => {
      for (let i = 0; i < 2800; i++) if (i % 8) tx.table('t').delete(`k${String(i).padStart(6, '0')}`);
    });
  });
  const b = await openTab(context, 'cf3');
  // b opens a read transaction and keeps it open until told
  await b.evaluate(async () => {
    const w = window as any;
    let started!: () => void;
    const inTxn = new Promise<void>((r) => (started = r));
    w.held = w.db.read(async (tx: any) => {
      await tx.table('t').get('k000000');
      started();
      await new Promise<void>((r) => (w.release = r));
    });
    await inTxn;
  });
  const busy = await a.evaluate(async () => {
    const t0 = Date.now();
    const r = await (window as any).db.compact({ busyTimeout: 300 }).then(() => ['ok'], (e: any) => [e.codeName, e.message]);
    return { r, ms: Date.now() - t0 };
  });
  expect(busy.r[0]).toBe('PAGEDB_EBUSY');
  expect(busy.r[1]).toMatch(/1 transaction\(s\).*still busy after 300 ms/);
  expect(busy.ms).toBeGreaterThanOrEqual(250);
  expect(busy.ms).toBeLessThan(5000);
  // the default busyTimeout (5000 ms) outlasts the reader, which b ends 300 ms later
  await a.evaluate(() => {
    const w = window as any;
    w.compacting = w.db.compact();
  });
  await b.evaluate(async () => {
    const w = window as any;
    await new Promise((r) => setTimeout(r, 300));
    w.release();
    await w.held;
  });
  const done = await a.evaluate(async () => {
    const w = window as any;
    const p = await w.compacting;
    return { done: p.done, n: await w.db.read((tx: any) => tx.table('t').count()) };
  });
  expect(done).toEqual({ done: true, n: 350 + 200 });
  await a.close();
  await b.close();
});
