// pagedb in Debian's Chromium on OPFS through the TypeScript package.
import { test, expect } from '@playwright/test';
import { freshPageEachTest, load } from './app_page';

freshPageEachTest();

test('writes, survives a reload, and reads everything back', async ({ page }) => {
  await page.evaluate(async () => {
    const w = window as any;
    const db = await w.pagedb.open('notes', { key: w.key, cacheBytes: 1 << 20 });
    await db.write((tx: any) => {
      const t = tx.table('notes');
      for (let i = 0; i < 2000; i++) t.put(`note-${String(i).padStart(5, '0')}`, `secret text number ${i}`);
    });
    // no close: the reload must release the OPFS handles (pagehide)
  });
  await page.reload();
  await page.waitForFunction(() => (window as any).ready === true);
  const r = await page.evaluate(async () => {
    const w = window as any;
    const db = await w.pagedb.open('notes', { key: w.key });
    const one = w.dec(await db.read((tx: any) => tx.table('notes').get('note-01234')));
    let n = 0;
    let last = '';
    for await (const [k] of db.range('notes', {})) { n++; last = w.dec(k); }
    const pages = await db.verify();
    await db.close();
    return { one, n, last, pages };
  });
  expect(r.one).toBe('secret text number 1234');
  expect(r.n).toBe(2000);
  expect(r.last).toBe('note-01999');
  expect(r.pages).toBeGreaterThan(2);
});

test('raw OPFS bytes contain none of the plaintext', async ({ page }) => {
  const found = await page.evaluate(async () => {
    const w = window as any;
    const db = await w.pagedb.open('raw', { key: w.key });
    await db.write((tx: any) => {
      for (let i = 0; i < 200; i++) tx.table('people').put(`person-${i}`, `Alice Wonderland lives at ${i} Rabbit Hole Lane`);
    });
    await db.close();
    const files = await w.rawFiles('raw');
    const needles = ['Alice Wonderland', 'Rabbit Hole', 'person-1', 'people'];
    const hits: string[] = [];
    let total = 0;
    for (const [name, bytes] of Object.entries(files) as [string, Uint8Array][]) {
      total += bytes.length;
      const text = new TextDecoder('latin1').decode(bytes);
      for (const n of needles) if (text.includes(n)) hits.push(`${name}:${n}`);
    }
    return { hits, total };
  });
  expect(found.total).toBeGreaterThan(8192);
  expect(found.hits).toEqual([]);
});

test('a worker killed mid-commit leaves the last committed state readable', async ({ page }) => {
  await page.evaluate(async () => {
    const w = window as any;
    const db = await w.pagedb.open('crash', { key: w.key });
    await db.write((tx: any) => { for (let i = 0; i < 500; i++) tx.table('t').put(`k${i}`, 'committed'); });
    // a large commit in flight, then the page goes away (worker terminated by pagehide)
    db.write((tx: any) => { for (let i = 0; i < 50000; i++) tx.table('t').put(`k${i}`, 'in-flight-' + 'x'.repeat(100)); });
    await new Promise((r) => setTimeout(r, 30));
  });
  await page.reload();
  await page.waitForFunction(() => (window as any).ready === true);
  const r = await page.evaluate(async () => {
    const w = window as any;
    const db = await w.pagedb.open('crash', { key: w.key });
    const values = new Set<string>();
    let n = 0;
    for await (const [, v] of db.range('t', {})) { n++; values.add(w.dec(v).slice(0, 9)); }
    const pages = await db.verify();
    await db.close();
    return { n, values: [...values], pages };
  });
  // exactly one of the two committed states, never a mix
  if (r.n === 500) expect(r.values).toEqual(['committed']);
  else {
    expect(r.n).toBe(50000);
    expect(r.values).toEqual(['in-flight']);
  }
  expect(r.pages).toBeGreaterThan(2);
});

test('a second tab opens the same database through the first (issue 12); a different key is EKEY', async ({ page, context }) => {
  await page.evaluate(async () => {
    const w = window as any;
    w.db = await w.pagedb.open('shared', { key: w.key });
    await w.db.write((tx: any) => tx.table('t').put('a', 'b'));
  });
  const other = await context.newPage();
  await load(other);
  const r = await other.evaluate(async () => {
    const w = window as any;
    const wrong = await w.pagedb.open('shared', { key: new Uint8Array(32) }).then(() => 'opened', (e: any) => e.codeName);
    const db = await w.pagedb.open('shared', { key: w.key });
    const v = w.dec(await db.read((tx: any) => tx.table('t').get('a')));
    await db.write((tx: any) => tx.table('t').put('a', 'from the second tab'));
    await db.close();
    return { wrong, v };
  });
  expect(r).toEqual({ wrong: 'PAGEDB_EKEY', v: 'b' });
  expect(await page.evaluate(async () => (window as any).dec(await (window as any).db.read((tx: any) => tx.table('t').get('a')))))
    .toBe('from the second tab');
  await page.evaluate(async () => (window as any).db.close());
});

test('errors surface as PagedbError with the C code', async ({ page }) => {
  const r = await page.evaluate(async () => {
    const w = window as any;
    const db = await w.pagedb.open('errs', { key: w.key });
    await db.write((tx: any) => tx.table('t').put('a', 'b'));
    await db.close();
    const out: any = {};
    try { await w.pagedb.open('errs', { key: new Uint8Array(32) }); } catch (e: any) { out.wrongKey = [e instanceof w.pagedb.PagedbError, e.code]; }
    try { await w.pagedb.open('errs2', {}); } catch (e: any) { out.noKey = [e instanceof w.pagedb.PagedbError, e.code]; }
    const db2 = await w.pagedb.open('errs', { key: w.key });
    try { await db2.write((tx: any) => tx.table('t').put(new Uint8Array(5000), 'v')); } catch (e: any) { out.tooBig = [e instanceof w.pagedb.PagedbError, e.code]; }
    out.still = w.dec(await db2.read((tx: any) => tx.table('t').get('a')));
    await db2.close();
    return out;
  });
  expect(r.wrongKey).toEqual([true, 5]);
  expect(r.noKey).toEqual([true, 10]);
  expect(r.tooBig).toEqual([true, 13]);
  expect(r.still).toBe('b');
});

test('a failed create leaves nothing in OPFS, and bad names are EINVAL (issue 10, defect 6)', async ({ page }) => {
  const r = await page.evaluate(async () => {
    const w = window as any;
    const codeOf = async (name: unknown, opts: unknown) => {
      try {
        const db = await w.pagedb.open(name, opts);
        await db.close();
        return 'opened';
      } catch (e: any) {
        return [e instanceof w.pagedb.PagedbError, e.code];
      }
    };
    const entries = async () => {
      const root = await navigator.storage.getDirectory();
      const out: string[] = [];
      for await (const [n, h] of (root as any).entries()) {
        out.push(n);
        if (h.kind === 'directory') for await (const [m] of (h as any).entries()) out.push(`${n}/${m}`);
      }
      return out.sort();
    };
    const out: any = {};
    out.pw = await codeOf('pw', { passphrase: 'pw', pwhashMemLimit: 1 }); /* refused by the engine at create */
    out.cache = await codeOf('cache', { key: w.key, cacheBytes: 1 });
    out.afterFailures = await entries();
    out.names = [];
    for (const bad of ['', 'a/b', '..', '.', 'x\\y', 'n\0ul', 7]) out.names.push(await codeOf(bad, { key: w.key }));
    out.afterNames = await entries();
    out.good = await codeOf('pw', { key: w.key });
    out.afterGood = await entries();
    return out;
  });
  expect(r.pw).toEqual([true, 10]);
  expect(r.cache).toEqual([true, 9]);
  expect(r.afterFailures).toEqual([]);
  for (const n of r.names) expect(n).toEqual([true, 10]);
  expect(r.afterNames).toEqual([]);
  expect(r.good).toBe('opened');
  expect(r.afterGood).toEqual(['pw', 'pw/main.pdb']);
});

test('a nested db.write never hangs; close() settles (issue 10, defect 3)', async ({ page }) => {
  const r = await page.evaluate(async () => {
    const w = window as any;
    const within = <T>(p: Promise<T>, ms = 5000) =>
      Promise.race([p.then((v) => ['ok', v], (e) => ['err', e?.code, String(e?.message)]), new Promise((res) => setTimeout(() => res(['hang']), ms))]);
    const db = await w.pagedb.open('nest', { key: w.key });
    const out: any = {};
    // before the callback's first await: refused at once
    out.sync = await within(db.write(async (tx: any) => {
      tx.table('t').put('a', '1');
      await db.write((t2: any) => t2.table('t').put('b', '2'));
    }));
    out.a = w.dec(await db.read((tx: any) => tx.table('t').get('a')));
    // after an await the browser cannot tell; close() releases the cycle
    let inner: Promise<unknown> | undefined;
    const outer = db.write(async (tx: any) => {
      await tx.table('t').get('x');
      inner = db.write((t2: any) => t2.table('t').put('c', '3'));
      await inner;
    });
    await new Promise((res) => setTimeout(res, 100));
    out.close = await within(db.close());
    out.outer = await within(outer);
    out.inner = await within(inner!);
    return out;
  });
  expect(r.sync[0]).toBe('err');
  expect(r.sync[1]).toBe(8);
  expect(r.sync[2]).toContain('inside a db.write callback');
  expect(r.a).toBeUndefined();
  expect(r.close).toEqual(['ok', undefined]);
  expect(r.outer[0]).toBe('err');
  expect(r.inner.slice(0, 2)).toEqual(['err', 8]);
  expect(r.inner[2]).toContain('closed before this write started');
});
