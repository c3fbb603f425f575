// Request coalescing through the real worker in Debian's Chromium (structured clone and
// transferred buffers, which the in-process Node endpoint of tests/node/batching.test.ts
// does not exercise): concurrent gets with missing keys and bad arguments, large values,
// concurrent ranges, ordering inside a write, and segment reads in the same batches.
import { test, expect } from '@playwright/test';
import { freshPageEachTest } from './app_page';

freshPageEachTest();

test('coalesced calls through the worker: own errors, own buffers, large values, ranges, order', async ({ page }) => {
  const r = await page.evaluate(async () => {
    const w = window as any;
    const k = (i: number) => `key-${String(i).padStart(5, '0')}`;
    const v = (i: number) => `value ${i} `.repeat(1 + (i % 7));
    const big = (n: number, seed: number) => {
      const a = new Uint8Array(n);
      for (let j = 0; j < n; j++) a[j] = (j * 31 + seed) & 255;
      return a;
    };
    const same = (a: Uint8Array | undefined, b: Uint8Array) => !!a && a.length === b.length && a.every((x, j) => x === b[j]);
    const owns = (a: Uint8Array | undefined) => !a || (a.byteOffset === 0 && a.buffer.byteLength === a.length);
    const sizes = [65535, 65536, 300_000, 3 << 20];
    const db = await w.pagedb.open('batch', { key: w.key, cacheBytes: 8 << 20 });
    await db.write((tx: any) => {
      const t = tx.table('t');
      for (let i = 0; i < 2000; i += 2) t.put(k(i), v(i));
      sizes.forEach((n, i) => tx.table('b').put(`big${i}`, big(n, i)));
    });
    const out: Record<string, unknown> = {};

    // 1,000 gets in one tick: odd keys missing, one key too long, one not bytes
    const got = await db.read((tx: any) => {
      const t = tx.table('t');
      const calls = [];
      for (let i = 0; i < 1000; i++) {
        if (i === 500) calls.push(t.get(new Uint8Array(5000)));
        else if (i === 700) calls.push(t.get(42));
        else calls.push(t.get(k(i)));
      }
      sizes.forEach((_, i) => calls.push(tx.table('b').get(`big${i}`)));
      return Promise.allSettled(calls);
    });
    let wrong = 0, notOwned = 0;
    got.forEach((s: any, i: number) => {
      if (i === 500 || i === 700) return;
      if (s.status !== 'fulfilled') { wrong++; return; }
      if (!owns(s.value)) notOwned++;
      if (i >= 1000) { if (!same(s.value, big(sizes[i - 1000], i - 1000))) wrong++; }
      else if (i % 2 ? s.value !== undefined : w.dec(s.value) !== v(i)) wrong++;
    });
    out.gets = { wrong, notOwned, e500: [got[500].reason instanceof w.pagedb.PagedbError, got[500].reason?.code],
      e700: [got[700].reason instanceof w.pagedb.PagedbError, got[700].reason?.code] };

    // ranges, all at once on one snapshot, with a get and a bad bound in the same batches
    const present = Array.from({ length: 1000 }, (_, j) => k(2 * j));
    const collect = async (it: AsyncIterable<[Uint8Array, Uint8Array]>) => {
      const ks = [];
      for await (const [kk, vv] of it) {
        if (!owns(kk) || !owns(vv) || w.dec(vv) !== v(Number(w.dec(kk).slice(4)))) throw new Error('bad entry');
        ks.push(w.dec(kk));
      }
      return ks;
    };
    const cases: [any, string[]][] = [];
    for (let s = 1; s < 2000; s += 97) {
      const at = present.findIndex((x) => x >= k(s));
      cases.push([{ gte: k(s), limit: 10 }, present.slice(at, at + 10)]);
      cases.push([{ lt: k(s), reverse: true, limit: 4 }, present.slice(Math.max(0, at - 4), at).reverse()]);
    }
    cases.push([{ gte: k(100), lt: k(1500) }, present.filter((x) => x >= k(100) && x < k(1500))]);
    const lists = await db.read((tx: any) => Promise.allSettled([
      ...cases.map(([rr]) => collect(tx.range('t', rr))),
      collect(tx.range('t', { prefix: 9 })),
      tx.table('t').get(k(8)),
    ]));
    out.ranges = {
      ok: cases.every(([, want], i) => lists[i].status === 'fulfilled' && JSON.stringify(lists[i].value) === JSON.stringify(want)),
      bad: [lists[cases.length].reason?.code],
      get: w.dec(lists[cases.length + 1].value),
    };

    // ordering inside one write, all issued in one tick
    out.order = (await db.write((tx: any) => {
      const t = tx.table('t');
      t.put('x', '1');
      const a = t.get('x');
      t.delete('x');
      const b = t.get('x');
      t.put('x', '2');
      const c = t.get('x');
      return Promise.all([a, b, c]);
    })).map((x: Uint8Array | undefined) => w.dec(x));

    // segment reads (transferred answers) interleaved with gets
    const seg = await db.segments.create();
    await seg.append(big(200_000, 9));
    const [sb, g] = await Promise.all([seg.read(1000, 150_000), db.read((tx: any) => tx.table('t').get(k(10)))]);
    out.seg = [same(sb, big(200_000, 9).subarray(1000, 151_000)), owns(sb), w.dec(g)];
    await seg.close();
    await db.close();
    return out;
  });
  expect(r.gets).toEqual({ wrong: 0, notOwned: 0, e500: [true, 13], e700: [true, 10] });
  expect(r.ranges).toEqual({ ok: true, bad: [10], get: 'value 8 value 8 ' });
  expect(r.order).toEqual(['1', undefined, '2']);
  expect(r.seg).toEqual([true, true, 'value 10 value 10 value 10 value 10 ']);
});
