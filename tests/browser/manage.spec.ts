// Everyday API in Chromium on OPFS: listDatabases/deleteDatabase (EBUSY while open, in
// this tab and in another one), db.tables(), table.count/clear, dropTable, codecs and
// db.iterate through the worker.
import { test, expect } from '@playwright/test';
import { freshPageEachTest } from './app_page';

freshPageEachTest();

test('listDatabases and deleteDatabase on OPFS', async ({ page, context }) => {
  const r = await page.evaluate(async () => {
    const { open, listDatabases, deleteDatabase } = (window as any).pagedb;
    const key = (window as any).key;
    const out: Record<string, unknown> = {};
    out.empty = await listDatabases();
    const a = await open('alpha', { key });
    await a.write((tx: any) => tx.table('t').put('k', 'v'));
    const b = await open('beta', { key });
    const s = await b.segments.create();
    await s.append('bytes');
    await s.seal();
    await b.write((tx: any) => tx.segments.link(s.id));
    await s.close();
    await b.close();
    const root = await navigator.storage.getDirectory();
    const foreign = await root.getDirectoryHandle('foreign', { create: true });
    const w = await (await foreign.getFileHandle('keep.txt', { create: true })).createWritable();
    await w.write('keep');
    await w.close();
    out.listed = await listDatabases();
    out.busy = await deleteDatabase('alpha').catch((e: any) => e.codeName);
    out.stillThere = (window as any).dec(await a.read((tx: any) => tx.table('t').get('k')));
    out.foreign = await deleteDatabase('foreign').catch((e: any) => e.codeName);
    out.badName = await deleteDatabase('a/b').catch((e: any) => e.codeName);
    out.deleted = await deleteDatabase('beta');
    out.again = await deleteDatabase('beta');
    out.after = await listDatabases();
    await a.close();
    return out;
  });
  expect(r).toEqual({
    empty: [], listed: ['alpha', 'beta'], busy: 'PAGEDB_EBUSY', stillThere: 'v', foreign: 'PAGEDB_ENOTDB',
    badName: 'PAGEDB_EINVAL', deleted: true, again: false, after: ['alpha'],
  });
  // open in another tab: EBUSY there too, and nothing lost
  const other = await context.newPage();
  await other.goto('/tests/browser/pages/app.html');
  await other.waitForFunction(() => (window as any).ready === true);
  await page.evaluate(async () => ((window as any).held = await (window as any).pagedb.open('alpha', { key: (window as any).key })));
  expect(await other.evaluate(() => (window as any).pagedb.deleteDatabase('alpha').catch((e: any) => e.codeName))).toBe('PAGEDB_EBUSY');
  expect(await page.evaluate(async () => {
    const db = (window as any).held;
    const v = (window as any).dec(await db.read((tx: any) => tx.table('t').get('k')));
    await db.close();
    return v;
  })).toBe('v');
  expect(await other.evaluate(() => (window as any).pagedb.deleteDatabase('alpha'))).toBe(true);
  expect(await other.evaluate(() => (window as any).pagedb.listDatabases())).toEqual([]);
  await other.close();
});

test('tables, count, clear, dropTable, codecs and iterate through the worker', async ({ page }) => {
  const r = await page.evaluate(async () => {
    const { open, keys } = (window as any).pagedb;
    const db = await open('m', { key: (window as any).key });
    const notes = db.table('notes', { codec: 'json' });
    await db.write((tx: any) => {
      for (let i = 0; i < 1000; i++) tx.table(notes).put(keys.pack(['n', i]), { i, title: `note ${i}` });
      tx.table('small').put('a', '1');
    });
    const out: Record<string, unknown> = {};
    out.tables = (await db.tables()).map((t: any) => [t.name, t.entries, t.bytes === t.pages * 4096, t.pages > 0]);
    out.count = await notes.count({ prefix: keys.pack(['n']) });
    out.one = await notes.get(keys.pack(['n', 42]));
    const seen: number[] = [];
    for await (const [k, v] of db.iterate(notes, { prefix: keys.pack(['n']) })) {
      if (seen.length === 0) await notes.put(keys.pack(['n', 5000]), { i: 5000 }); // not in this snapshot
      seen.push(v.i);
      if (keys.unpack(k)[1] !== v.i) throw new Error('key mismatch');
    }
    out.seen = [seen.length, seen[0], seen[seen.length - 1], seen.every((x, j) => x === j)];
    await notes.clear();
    out.cleared = [await notes.count(), (await db.tables()).map((t: any) => t.name)];
    out.dropped = [await db.dropTable('small'), await db.dropTable('small'), (await db.tables()).map((t: any) => t.name)];
    out.verify = (await db.verify()) > 0;
    await db.close();
    return out;
  });
  expect(r).toEqual({
    tables: [['notes', 1000, true, true], ['small', 1, true, true]],
    count: 1000,
    one: { i: 42, title: 'note 42' },
    seen: [1000, 0, 999, true],
    cleared: [0, ['notes', 'small']],
    dropped: [true, false, ['notes']],
    verify: true,
  });
});
