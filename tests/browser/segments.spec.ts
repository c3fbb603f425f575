// The Segment File API in Debian's Chromium on OPFS through the TypeScript package. The cases
// shared with the Node runner (tests/shared/segment_cases.mjs) run in the page on OPFS; then
// the browser's own: segments written, synced, sealed and linked survive a reload and read
// back byte for byte; several segment writers run at once; deletion and unlinked leftovers
// remove their OPFS files; the raw OPFS segment files hold no plaintext; the synchronous
// in-worker API creates segments.
// Random data comes from tests/shared/xorshift.mjs; the seed of the shared cases is printed
// and can be fixed with PAGEDB_TEST_SEED=<n> to reproduce a failure.
import { test, expect, type Page } from '@playwright/test';
import { freshPageEachTest } from './app_page';
import { segmentCases } from '../shared/segment_cases.mjs';

freshPageEachTest();

const seed = Number(process.env.PAGEDB_TEST_SEED ?? Date.now() % 1_000_000);

// The shared cases: the page imports the case list and the expect subset from the static
// server and runs one case against OPFS; its failure (an exception) comes back as a string.
for (const { name } of segmentCases({})) {
  test(`shared: ${name}`, async ({ page }) => {
    console.log(`segments.spec.ts shared case seed=${seed}`);
    const failure = await page.evaluate(async ({ name, seed }) => {
      const w = window as any;
      const { segmentCases } = await w.importModule('/tests/shared/segment_cases.mjs');
      const { expect } = await w.importModule('/tests/shared/expect.mjs');
      const dirOf = async (db: string) => (await navigator.storage.getDirectory()).getDirectoryHandle(db);
      const fileOf = async (db: string, f: string) => (await dirOf(db)).getFileHandle(f);
      const files = {
        exists: async (db: string, f: string) => {
          try {
            await fileOf(db, f);
            return true;
          } catch (e: any) {
            if (e.name === 'NotFoundError') return false;
            throw e;
          }
        },
        size: async (db: string, f: string) => (await (await fileOf(db, f)).getFile()).size,
        read: async (db: string, f: string) => new Uint8Array(await (await (await fileOf(db, f)).getFile()).arrayBuffer()),
        write: async (db: string, f: string, b: Uint8Array) => {
          const out = await (await fileOf(db, f)).createWritable();
          await out.write(b);
          await out.close();
        },
        list: async (db: string) => {
          const names: string[] = [];
          for await (const [n] of (await dirOf(db) as any).entries()) names.push(n);
          return names.sort();
        },
      };
      const cases = segmentCases({
        expect,
        open: (n: string, o: object = {}) => w.pagedb.open(n, { key: w.key, ...o }),
        ErrorCode: w.pagedb.ErrorCode,
        PagedbError: w.pagedb.PagedbError,
        SEGMENT_BATCH_BYTES: w.pagedb.SEGMENT_BATCH_BYTES,
        seed,
        files,
      });
      try {
        await cases.find((c: any) => c.name === name).run();
        return null;
      } catch (e: any) {
        return String(e && e.stack || e);
      }
    }, { name, seed });
    expect(failure).toBeNull();
  });
}

// In-page helpers of the browser's own cases, installed once per page load.
async function helpers(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const w = window as any;
    const { bytes } = await w.importModule('/tests/shared/xorshift.mjs');
    /** Deterministic bytes: the shared xorshift stream from `seed`. */
    w.bytes = bytes;
    /** Index of the first difference, or -1. */
    w.diff = (a: Uint8Array, b: Uint8Array) => {
      if (a.length !== b.length) return Math.min(a.length, b.length);
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
      return -1;
    };
    w.segName = (id: bigint) => `seg-${id.toString(16).padStart(16, '0')}.pds`;
    w.opfsNames = async (name: string) => {
      const root = await navigator.storage.getDirectory();
      const dir = await root.getDirectoryHandle(name);
      const out: string[] = [];
      for await (const [n] of (dir as any).entries()) out.push(n);
      return out.sort();
    };
  });
}

const C = 4096 - 72;
const SIZES = [0, 1, C - 1, C, C + 1, 3 * 1024 * 1024 + 7];

test('segments written, synced, sealed and linked survive a reload and read back', async ({ page }) => {
  await helpers(page);
  const written = await page.evaluate(async (sizes) => {
    const w = window as any;
    const db = await w.pagedb.open('segs', { key: w.key, cacheBytes: 1 << 20 });
    const ids: string[] = [];
    for (let i = 0; i < sizes.length; i++) {
      const seg = await db.segments.create();
      const src = w.bytes(sizes[i], 1000 + i);
      for (let off = 0; off < src.length; off += 70_000) await seg.append(src.subarray(off, off + 70_000));
      const back = await seg.read(0, src.length);
      if (w.diff(back, src) !== -1) throw new Error(`segment ${i}: read-back differs at ${w.diff(back, src)}`);
      if (i % 2 === 0) await seg.seal(); else await seg.sync(); // linked unsealed ones keep synced bytes
      ids.push(seg.id.toString());
    }
    await db.write((tx: any) => {
      ids.forEach((id, i) => tx.segments.link(BigInt(id), `segment ${i}`));
      tx.table('t').put('ids', ids.join(','));
    });
    const names = await w.opfsNames('segs');
    // no close: the reload must release the OPFS handles (pagehide); unsealed tails were synced
    return { ids, names, segNames: ids.map((id) => w.segName(BigInt(id))) };
  }, SIZES);
  for (const n of written.segNames) expect(written.names).toContain(n);

  await page.reload();
  await page.waitForFunction(() => (window as any).ready === true);
  await helpers(page);
  const r = await page.evaluate(async (sizes) => {
    const w = window as any;
    const db = await w.pagedb.open('segs', { key: w.key, cacheBytes: 1 << 20 });
    const ids = w.dec(await db.read((tx: any) => tx.table('t').get('ids'))).split(',');
    const list = await db.segments.list();
    const out: any[] = [];
    for (let i = 0; i < sizes.length; i++) {
      const info = list.find((x: any) => x.id === BigInt(ids[i]));
      const seg = await db.segments.open(ids[i], { verify: i % 2 === 0 });
      const back = await seg.read(0, sizes[i]);
      const mid = sizes[i] > 10 ? await seg.read(sizes[i] >> 1, 7) : new Uint8Array(0);
      const src = w.bytes(sizes[i], 1000 + i);
      out.push({
        sealed: info.sealed, length: info.length, meta: w.dec(info.meta), diff: w.diff(back, src),
        midDiff: w.diff(mid, src.subarray(sizes[i] >> 1, (sizes[i] >> 1) + mid.length)),
        pages: await seg.verify(),
      });
      await seg.close();
    }
    // appending after the reload continues the unsealed segment 1, in a new session
    const s1 = await db.segments.open(ids[1], { append: true });
    await s1.append('more');
    await s1.seal();
    await db.write((tx: any) => tx.segments.link(s1.id));
    const tail = w.dec(await s1.read(sizes[1], 4));
    const info1 = (await db.segments.get(ids[1]));
    await db.close();
    return { out, tail, sealed1: info1.sealed, length1: info1.length, n: list.length };
  }, SIZES);
  expect(r.n).toBe(SIZES.length);
  r.out.forEach((o: any, i: number) => {
    expect(o.sealed, `segment ${i}`).toBe(i % 2 === 0);
    expect(o.length, `segment ${i}`).toBe(SIZES[i]);
    expect(o.meta).toBe(`segment ${i}`);
    expect(o.diff, `segment ${i} first difference`).toBe(-1);
    expect(o.midDiff, `segment ${i} middle read`).toBe(-1);
    expect(o.pages).toBeGreaterThanOrEqual(Math.ceil(SIZES[i] / C));
  });
  expect(r.tail).toBe('more');
  expect(r.sealed1).toBe(true);
  expect(r.length1).toBe(SIZES[1] + 4);
});

test('several segment writers at once, each on its own OPFS access handle', async ({ page }) => {
  await helpers(page);
  const r = await page.evaluate(async () => {
    const w = window as any;
    const db = await w.pagedb.open('par', { key: w.key, cacheBytes: 1 << 20 });
    const N = 5;
    const sizes = Array.from({ length: N }, (_, i) => 400_000 + i * 300_000);
    const segs = await Promise.all(sizes.map(() => db.segments.create()));
    // all writers interleave their appends; a table commit runs meanwhile
    const writers = segs.map(async (seg: any, i: number) => {
      const src = w.bytes(sizes[i], 7 + i);
      for (let off = 0, step = 1 + i * 3001; off < src.length; off += step) await seg.append(src.subarray(off, off + step));
      await seg.sync();
      await seg.seal();
    });
    const rows = db.write((tx: any) => { for (let i = 0; i < 3000; i++) tx.table('rows').put(`r${i}`, `row ${i}`); });
    await Promise.all([...writers, rows]);
    await db.write((tx: any) => segs.forEach((s: any, i: number) => tx.segments.link(s.id, `w${i}`)));
    await Promise.all(segs.map((s: any) => s.close()));
    await db.close();
    const again = await w.pagedb.open('par', { key: w.key });
    const diffs: number[] = [];
    for (let i = 0; i < N; i++) {
      const seg = await again.segments.open(segs[i].id, { verify: true });
      diffs.push(w.diff(await seg.read(0, sizes[i]), w.bytes(sizes[i], 7 + i)));
    }
    let rowsN = 0;
    for await (const _ of again.range('rows', {})) rowsN++;
    const list = await again.segments.list();
    await again.close();
    return { diffs, rowsN, metas: list.map((x: any) => w.dec(x.meta)), ids: segs.map((s: any) => s.id.toString()) };
  });
  expect(r.diffs).toEqual([-1, -1, -1, -1, -1]);
  expect(r.rowsN).toBe(3000);
  expect(r.metas).toEqual(['w0', 'w1', 'w2', 'w3', 'w4']);
  expect(new Set(r.ids).size).toBe(5);
});

test('raw OPFS segment files contain none of the plaintext', async ({ page }) => {
  await helpers(page);
  const r = await page.evaluate(async () => {
    const w = window as any;
    const db = await w.pagedb.open('rawseg', { key: w.key });
    const line = 'Confidential: Alice Wonderland, 42 Rabbit Hole Lane, card 4111-1111-1111-1111\n';
    const seg = await db.segments.create();
    for (let i = 0; i < 2000; i++) await seg.append(line);
    await seg.seal();
    const open = await db.segments.create(); // an unsealed, synced one too
    await open.append(line.repeat(50));
    await open.sync();
    await db.write((tx: any) => { tx.segments.link(seg.id, 'Alice metadata'); tx.segments.link(open.id); });
    await db.close();
    const files = await w.rawFiles('rawseg');
    const needles = ['Confidential', 'Alice', 'Rabbit Hole', '4111-1111', 'metadata'];
    const hits: string[] = [];
    const sizes: Record<string, number> = {};
    for (const [name, bytes] of Object.entries(files) as [string, Uint8Array][]) {
      sizes[name] = bytes.length;
      const text = new TextDecoder('latin1').decode(bytes);
      for (const n of needles) if (text.includes(n)) hits.push(`${name}:${n}`);
    }
    return { hits, sizes, sealedName: w.segName(seg.id), openName: w.segName(open.id), total: line.length * 2000 };
  });
  expect(r.hits).toEqual([]);
  // the sealed segment's file: ceil(L / C) data pages + footer, all ciphertext
  expect(r.sizes[r.sealedName]).toBe((Math.ceil(r.total / C) + 1) * 4096);
  expect(r.sizes[r.openName]).toBeGreaterThan(0);
});

test('deleting and unlinking remove OPFS files; unlinked leftovers are removed at reopen', async ({ page }) => {
  await helpers(page);
  const r = await page.evaluate(async () => {
    const w = window as any;
    const db = await w.pagedb.open('del', { key: w.key });
    const a = await db.segments.create();
    await a.append('a'.repeat(10_000));
    await a.close();
    const b = await db.segments.create();
    await b.append('b');
    await b.seal();
    await b.close();
    await db.write((tx: any) => tx.segments.link(b.id));
    const c = await db.segments.create(); // left unlinked across the reload
    await c.append('c'.repeat(5000));
    await c.sync();
    const before = await w.opfsNames('del');
    await db.segments.delete(a.id); // never linked: removed at once
    const afterA = await w.opfsNames('del');
    await db.segments.delete(b.id); // linked: unlinked by its own commit
    const afterB = await w.opfsNames('del');
    let reopenB: any;
    try { await db.segments.open(b.id); } catch (e: any) { reopenB = [e instanceof w.pagedb.PagedbError, e.code]; }
    const ids = [a.id, b.id, c.id].map((x: bigint) => w.segName(x));
    return { before, afterA, afterB, reopenB, ids };
  });
  expect(r.before).toEqual(['main.pdb', ...r.ids].sort());
  expect(r.afterA).toEqual(['main.pdb', r.ids[1], r.ids[2]].sort());
  expect(r.afterB).toEqual(['main.pdb', r.ids[2]].sort());
  expect(r.reopenB).toEqual([true, 1]);

  await page.reload(); // c was never linked
  await page.waitForFunction(() => (window as any).ready === true);
  await helpers(page);
  const after = await page.evaluate(async () => {
    const w = window as any;
    const db = await w.pagedb.open('del', { key: w.key });
    const names = await w.opfsNames('del');
    const list = await db.segments.list();
    // creating segments still works after the recovery removed files
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await db.segments.create();
      await s.append(`seg ${i}`);
      await s.seal();
      ids.push(s.id.toString());
    }
    await db.write((tx: any) => ids.forEach((id) => tx.segments.link(BigInt(id))));
    const listed = (await db.segments.list()).map((x: any) => x.id.toString());
    await db.close();
    return { names, n: list.length, ids, listed, files: await w.opfsNames('del') };
  });
  expect(after.names).toEqual(['main.pdb']);
  expect(after.n).toBe(0);
  expect(after.listed).toEqual(after.ids);
  // after the session's first create, the next ids follow one another (file prepared ahead)
  expect(BigInt(after.ids[2]) - BigInt(after.ids[1])).toBe(1n);
  expect(BigInt(after.ids[1]) - BigInt(after.ids[0])).toBe(1n);
  for (const id of after.ids) expect(after.files).toContain(`seg-${BigInt(id).toString(16).padStart(16, '0')}.pds`);
});

test('appendStream from a Blob stream, and segment errors as PagedbError', async ({ page }) => {
  await helpers(page);
  const r = await page.evaluate(async () => {
    const w = window as any;
    const db = await w.pagedb.open('stream', { key: w.key });
    const src = w.bytes(2 * 1024 * 1024 + 333, 99);
    const seg = await db.segments.create();
    const n = await seg.appendStream(new Blob([src]).stream());
    const info = await seg.seal();
    const diff = w.diff(await seg.read(0, src.length), src);
    const errs: any = {};
    try { await seg.append('x'); } catch (e: any) { errs.sealed = [e instanceof w.pagedb.PagedbError, e.code]; }
    try { await seg.read(src.length, 1); } catch (e: any) { errs.beyond = [e instanceof w.pagedb.PagedbError, e.code]; }
    try { await db.segments.open(123456n); } catch (e: any) { errs.missing = [e instanceof w.pagedb.PagedbError, e.code]; }
    try { await db.write((tx: any) => tx.segments.link(123456n)); } catch (e: any) { errs.link = [e instanceof w.pagedb.PagedbError, e.code]; }
    await db.close();
    return { n, length: info.length, diff, errs };
  });
  expect(r.n).toBe(2 * 1024 * 1024 + 333);
  expect(r.length).toBe(r.n);
  expect(r.diff).toBe(-1);
  expect(r.errs).toEqual({ sealed: [true, 18], beyond: [true, 10], missing: [true, 1], link: [true, 1] });
});

test('the synchronous in-worker API creates, links and reads segments on OPFS', async ({ page }) => {
  const r = await page.evaluate(async () => {
    const src = `
      import { openInWorker } from '${location.origin}/dist/sync.js';
      const key = new Uint8Array(32).map((_, i) => i * 3 + 1);
      try {
        const db = await openInWorker('syncseg', { key });
        let refused = null;
        try { db.createSegment(); } catch (e) { refused = e.code; }
        const a = await db.createSegmentAsync();
        a.append('sync api '.repeat(1000));
        a.seal();
        const b = await db.createSegmentAsync(); // its file is prepared before the create: no refusal
        b.append('second');
        b.sync();
        const t = db.beginWrite();
        t.linkSegment(a.id, 'meta');
        t.commit();
        b.close();
        db.deleteSegment(b.id);
        await db.settle();
        const text = new TextDecoder().decode(a.read(9 * 999, 9));
        const list = db.listSegments().map((x) => [x.id.toString(), x.sealed, x.length]);
        a.close();
        db.close();
        const root = await navigator.storage.getDirectory();
        const names = [];
        for await (const [n] of (await root.getDirectoryHandle('syncseg')).entries()) names.push(n);
        postMessage({ refused, text, list, names: names.sort(), a: a.id.toString(), b: b.id.toString() });
      } catch (e) {
        postMessage({ error: String(e && e.stack || e) });
      }`;
    const url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
    const worker = new Worker(url, { type: 'module' });
    const out = await new Promise((resolve) => {
      worker.addEventListener('message', (ev) => resolve(ev.data));
      worker.addEventListener('error', (ev) => resolve({ error: `worker failed: ${ev.message}` }));
    });
    worker.terminate();
    return out as any;
  });
  expect(r.error).toBeUndefined();
  // the first synchronous create of a session on OPFS cannot create its file: ENOTSUP
  expect(r.refused).toBe(17);
  expect(r.text).toBe('sync api ');
  expect(r.list).toEqual([[r.a, true, 9000]]);
  expect(BigInt(r.b) - BigInt(r.a)).toBe(1n);
  const name = (id: string) => `seg-${BigInt(id).toString(16).padStart(16, '0')}.pds`;
  expect(r.names).toContain(name(r.a));
  expect(r.names).not.toContain(name(r.b));
});
