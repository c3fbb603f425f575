// Issue 14, goal 5: open() of the promise API inside a dedicated worker runs the engine in
// that worker (db.engineLocation 'this-thread': no message hop per call), and the worker
// still takes part in the owner election of tabs.ts: with a tab on the same database
// exactly one of them owns it, each sees the other's commits (reads and subscriptions),
// and when the owner goes away (closed, or its worker terminated) the other takes over
// with nothing lost.
import { test, expect, type BrowserContext, type Page, type Worker } from '@playwright/test';
import { clearOpfs, openTab } from './tabs_util';

test.beforeEach(async ({ page }) => clearOpfs(page));

/** A page that starts db_worker.js on database `db`; resolves once its open() settled. */
async function openWorker(context: BrowserContext, db: string, query = ''): Promise<{ page: Page; w: Worker }> {
  const page = await context.newPage();
  const started = page.waitForEvent('worker');
  await page.goto(`/tests/browser/pages/worker.html?db=${db}${query}`);
  const w = await started;
  await until(() => w.evaluate(() => (self as any).ready === true));
  return { page, w };
}

/** Poll `f` until it resolves true (at most `ms`). */
async function until(f: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const where = (w: Worker) => w.evaluate(() => (self as any).db.engineLocation as string);
const tabWhere = (p: Page) => p.evaluate(() => (window as any).db.engineLocation as string);

/** Commit key k = v from the worker (one write transaction). */
const workerPut = (w: Worker, k: string, v: string) =>
  w.evaluate(([k, v]) => (self as any).db.write((tx: any) => tx.table('t').put(k, v)), [k, v]);
const workerGet = (w: Worker, k: string) =>
  w.evaluate(async (k) => (self as any).dec(await (self as any).db.read((tx: any) => tx.table('t').get(k))) ?? null, k);
const tabPut = (p: Page, k: string, v: string) =>
  p.evaluate(([k, v]) => (window as any).db.write((tx: any) => tx.table('t').put(k, v)), [k, v]);
const tabGet = (p: Page, k: string) =>
  p.evaluate(async (k) => (window as any).dec(await (window as any).db.read((tx: any) => tx.table('t').get(k))) ?? null, k);

test('open() in a dedicated worker runs the engine in that worker; errors, subscribe, idempotency, close', async ({ context }) => {
  const { w } = await openWorker(context, 'wk1');
  expect(await w.evaluate(() => (self as any).openError)).toBeUndefined();
  expect(await where(w)).toBe('this-thread');
  const r = await w.evaluate(async () => {
    const s = self as any, db = s.db, out: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) await db.write((tx: any) => tx.table('t').put(`k${i}`, `v${i}`));
    out.get = s.dec(await db.read((tx: any) => tx.table('t').get('k7')));
    let n = 0;
    for await (const _ of db.iterate('t')) n++;
    out.count = n;
    out.changes = s.changes.length;
    out.lastKeys = s.changes[s.changes.length - 1]?.keys;
    // typed errors from the in-thread engine
    out.badTable = await db.read((tx: any) => tx.table('').get('x')).then(() => 'ok', (e: any) => e.codeName);
    await db.write((tx: any) => tx.table('t').put('once', '1'), { idempotencyId: 'op-1' });
    out.again = await db.write((tx: any) => tx.table('t').put('once', '2'), { idempotencyId: 'op-1' }).then(() => 'ok', (e: any) => e.codeName);
    out.once = s.dec(await db.read((tx: any) => tx.table('t').get('once')));
    out.verify = await db.verify();
    await db.close();
    out.afterClose = db.engineLocation;
    out.closedCall = await db.stat().then(() => 'ok', (e: any) => e.codeName);
    // the handles are released: open again (in this thread again) and find the data
    const db2 = await s.pagedb.open('wk1', { key: new Uint8Array(32).fill(7) });
    out.reopened = db2.engineLocation;
    out.reread = s.dec(await db2.read((tx: any) => tx.table('t').get('k49')));
    await db2.close();
    return out;
  });
  expect(r.get).toBe('v7');
  expect(r.count).toBe(50);
  expect(r.changes).toBe(50);
  expect(r.lastKeys).toEqual([['k49']]);
  expect(r.badTable).toBe('PAGEDB_EINVAL');
  expect(r.again).toBe('PAGEDB_EEXIST');
  expect(r.once).toBe('1');
  expect(r.verify).toBeGreaterThan(0);
  expect(r.afterClose).toBe('none');
  expect(r.closedCall).toBe('PAGEDB_EMISUSE');
  expect(r.reopened).toBe('this-thread');
  expect(r.reread).toBe('v49');
});

test('the pagedb/dedicated-worker entry (what a bundled worker imports) runs the engine in the worker', async ({ context }) => {
  const { w } = await openWorker(context, 'wkdw', '&entry=dedicated-worker');
  expect(await w.evaluate(() => (self as any).openError)).toBeUndefined();
  expect(await where(w)).toBe('this-thread');
  await workerPut(w, 'a', '1');
  expect(await workerGet(w, 'a')).toBe('1');
});

test('segments through the in-thread engine: create (async OPFS file), append, link, read, delete removes the file', async ({ context }) => {
  const { w } = await openWorker(context, 'wkseg');
  expect(await where(w)).toBe('this-thread');
  const r = await w.evaluate(async () => {
    const s = self as any, db = s.db;
    const files = async () => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('wkseg');
      const names: string[] = [];
      for await (const [n] of (dir as any).entries()) names.push(n);
      return names.sort();
    };
    const before = await files();
    const src = new Uint8Array(300_000).map((_, i) => (i * 31) & 255);
    // two creates and appends issued together (the creates queue behind each other)
    const [a, b] = await Promise.all([db.segments.create(), db.segments.create()]);
    await Promise.all([a.append(src), b.append(src.subarray(0, 1000))]);
    await a.seal();
    await b.seal();
    await db.write((tx: any) => { tx.segments.link(a.id, 'a'); tx.segments.link(b.id, 'b'); });
    const back = await a.read(1000, 5000);
    const same = back.every((x: number, i: number) => x === src[1000 + i]);
    await a.close();
    await b.close();
    const linked = (await db.segments.list()).length;
    const withSegs = await files();
    await db.segments.delete(b.id);
    const after = await files(); // removed once delete resolved (deferred OPFS removal settled)
    return { before, withSegs, after, same, linked, left: (await db.segments.list()).length, verify: await db.verify() };
  });
  expect(r.same).toBe(true);
  expect(r.linked).toBe(2);
  expect(r.left).toBe(1);
  expect(r.withSegs.length).toBe(r.before.length + 2);
  expect(r.after.length).toBe(r.before.length + 1);
  expect(r.verify).toBeGreaterThan(0);
});

test('a tab owns the database: a dedicated worker opening it becomes its client; closing the tab hands it to the worker', async ({ context }) => {
  const tab = await openTab(context, 'wk2');
  expect(await tabWhere(tab)).toBe('worker');
  const { w } = await openWorker(context, 'wk2');
  expect(await w.evaluate(() => (self as any).openError)).toBeUndefined();
  expect(await where(w)).toBe('owner'); // exactly one owner: the tab
  expect(await tab.evaluate(() => (window as any).owner())).toBe(true);
  await tabPut(tab, 'from-tab', 'a');
  await workerPut(w, 'from-worker', 'b');
  expect(await workerGet(w, 'from-tab')).toBe('a');
  expect(await tabGet(tab, 'from-worker')).toBe('b');
  await until(() => w.evaluate(() => (self as any).changes.length === 2));
  await until(() => tab.evaluate(() => (window as any).changes.length === 2));
  // the owner closes: the worker takes over and runs the engine itself, nothing lost
  await tab.evaluate(() => (window as any).db.close());
  await until(() => where(w).then((l) => l === 'this-thread'));
  expect(await workerGet(w, 'from-tab')).toBe('a');
  expect(await workerGet(w, 'from-worker')).toBe('b');
  await workerPut(w, 'after', 'c');
  expect(await w.evaluate(() => (self as any).db.verify())).toBeGreaterThan(0);
});

for (const how of ['close', 'terminate'] as const) {
  test(`a dedicated worker owns the database; a tab is its client; the worker goes away (${how}): the tab takes over`, async ({ context }) => {
    const { page, w } = await openWorker(context, `wk3${how}`);
    expect(await where(w)).toBe('this-thread');
    const tab = await openTab(context, `wk3${how}`);
    expect(await tab.evaluate(() => (window as any).openError)).toBeUndefined();
    expect(await tabWhere(tab)).toBe('owner');
    expect(await tab.evaluate(() => (window as any).owner())).toBe(false); // exactly one owner: the worker
    // each sees the other's commits, and is told of them
    await workerPut(w, 'from-worker', 'b');
    await tabPut(tab, 'from-tab', 'a');
    expect(await tabGet(tab, 'from-worker')).toBe('b');
    expect(await workerGet(w, 'from-tab')).toBe('a');
    await until(() => tab.evaluate(() => (window as any).changes.length === 2));
    await until(() => w.evaluate(() => (self as any).changes.length === 2));
    // writes serialised across the two: a read-modify-write counter from both at once
    const bump = `async (db, dec) => { for (let i = 0; i < 20; i++) await db.write(async (tx) => {
      const t = tx.table('t'); t.put('n', String(Number(dec(await t.get('n')) ?? 0) + 1)); }); }`;
    await Promise.all([
      w.evaluate((src) => (0, eval)(src)((self as any).db, (self as any).dec), bump),
      tab.evaluate((src) => (0, eval)(src)((window as any).db, (window as any).dec), bump),
    ]);
    expect(await tabGet(tab, 'n')).toBe('40');
    // the owner goes away: the tab takes over (its own worker) and finds everything
    if (how === 'close') await w.evaluate(() => (self as any).db.close());
    else await page.evaluate(() => (window as any).dbWorker.terminate());
    await until(() => tabWhere(tab).then((l) => l === 'worker'));
    expect(await tab.evaluate(() => (window as any).owner())).toBe(true);
    expect(await tabGet(tab, 'from-worker')).toBe('b');
    expect(await tabGet(tab, 'n')).toBe('40');
    await tabPut(tab, 'after', 'c');
    expect(await tab.evaluate(() => (window as any).db.verify())).toBeGreaterThan(0);
  });
}
