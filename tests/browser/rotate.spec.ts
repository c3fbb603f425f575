// Data key rotation in Chromium on OPFS (db.rotateKeys; pagedb.h pagedb_rekey with no new
// KEK, docs/FORMAT.md §13.3): the first step loads the full module (dist/pagedb-full.wasm)
// into the owner's worker and switches the open database to it; steps pass the owner's
// write gate, so another tab reads and writes between them. Re-sealing is checked on the
// bytes of main.pdb in OPFS: every sealed page's key epoch (page header offset 8, FORMAT.md
// §3) is 0 before and the new epoch after. Abort and resume; a page closed mid-rotation and
// a reload that resumes; segment files re-sealed: OPFS moves files only asynchronously, so
// the step that switches a segment to its re-sealed copy closes the database, move()s the
// file and reopens it (FORMAT.md §13.3 "OPFS").
import { test, expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freshPageEachTest, load } from './app_page';
import { openTab } from './tabs_util';

freshPageEachTest();

/** In the page: epoch -> page count of main.pdb's sealed pages (database closed). */
async function epochs(page: Page, name: string): Promise<Record<string, number>> {
  return page.evaluate(async (name) => {
    const f = (await (window as any).rawFiles(name))['main.pdb'] as Uint8Array;
    const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
    const out: Record<string, number> = {};
    for (let o = 2 * 4096; o + 4096 <= f.length; o += 4096) {
      if (f[o] === 0) continue; // zeroed (scrubbed or never written)
      const e = String(dv.getUint32(o + 8, true));
      out[e] = (out[e] ?? 0) + 1;
    }
    return out;
  }, name);
}

/** In the page: open `name`, put n rows of ~300 bytes in table t (tag in the value), close. */
async function fill(page: Page, name: string, n: number): Promise<void> {
  await page.evaluate(async ({ name, n }) => {
    const { open } = (window as any).pagedb;
    const db = await open(name, { key: (window as any).key });
    for (let b = 0; b < n; b += 500)
      await db.write((tx: any) => {
        for (let i = b; i < Math.min(n, b + 500); i++) tx.table('t').put(`k${String(i).padStart(6, '0')}`, `v${i}:`.padEnd(300, 'x'));
      });
    await db.close();
  }, { name, n });
}

/** The files of `name`, copied out of OPFS: `pagedb verify` and `pagedb tables` of the native CLI. */
async function nativeCheck(page: Page, name: string): Promise<{ out: string; tables: string }> {
  const files = await page.evaluate(async (name) => {
    const f = await (window as any).rawFiles(name);
    const b64 = (b: Uint8Array) => {
      let s = '';
      for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
      return btoa(s);
    };
    return Object.fromEntries(Object.entries(f).map(([n, b]) => [n, b64(b as Uint8Array)]));
  }, name);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-rot-'));
  for (const [n, b] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), Buffer.from(b as string, 'base64'));
  const cli = process.env.PAGEDB_NATIVE_CLI ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../build/release/pagedb');
  const hex = Buffer.from(Uint8Array.from({ length: 32 }, (_, i) => i * 3 + 1)).toString('hex');
  const out = execFileSync(cli, ['verify', dir], { env: { ...process.env, PAGEDB_KEY: hex } }).toString();
  const tables = execFileSync(cli, ['tables', dir], { env: { ...process.env, PAGEDB_KEY: hex } }).toString();
  return { out, tables };
}

test('rotateKeys re-seals every page of main.pdb (epochs 0 -> 1); abort, resume; realm 0 again (-> 2); data equal, verifies', async ({ page }) => {
  await fill(page, 'rk1', 3000);
  const e0 = await epochs(page, 'rk1');
  expect(Object.keys(e0)).toEqual(['0']);
  const r = await page.evaluate(async () => {
    const { open } = (window as any).pagedb;
    const db = await open('rk1', { key: (window as any).key, create: false });
    const dump = async () => {
      const out: string[] = [];
      for await (const [k, v] of db.range('t')) out.push((window as any).dec(k) + '=' + (window as any).dec(v));
      return out.join('\n');
    };
    const before = await dump();
    const ac = new AbortController();
    let n = 0;
    const aborted = await db.rotateKeys({ pagesPerStep: 16, signal: ac.signal, onProgress: () => { if (++n === 3) ac.abort(); } })
      .then(() => 'resolved', (e: any) => e.codeName);
    const midSame = (await dump()) === before;
    await db.write((tx: any) => tx.table('t').put('between', 'steps'));
    const phases: number[] = [], done: number[] = [];
    const fin = await db.rotateKeys({ pagesPerStep: 16, onProgress: (p: any) => { phases.push(p.phase); done.push(p.pagesDone); } });
    const after = await dump();
    const pages = await db.verify();
    await db.close();
    return { aborted, midSame, fin: fin.done, phases, firstDone: done[0], after, before, pages };
  });
  expect(r.aborted).toBe('PAGEDB_ECANCELED');
  expect(r.midSame).toBe(true);
  expect(r.fin).toBe(true);
  expect(r.firstDone).toBeGreaterThan(0); // resumed, not restarted
  expect(new Set(r.phases)).toEqual(new Set([1, 5, 2, 3, 4, 6, 0]));
  expect(r.after.split('\n').filter((l: string) => !l.startsWith('between=')).join('\n')).toBe(r.before);
  expect(r.after).toContain('between=steps');
  expect(r.pages).toBeGreaterThan(0);
  expect(Object.keys(await epochs(page, 'rk1'))).toEqual(['1']);
  // realm 0 explicitly, in a new handle (first-load module again, switched on the first step)
  const r2 = await page.evaluate(async () => {
    const { open } = (window as any).pagedb;
    const db = await open('rk1', { key: (window as any).key, create: false });
    const p = await db.rotateKeys({ realm: 0 });
    const n = await db.read((tx: any) => tx.table('t').count());
    await db.close();
    return { done: p.done, n };
  });
  expect(r2).toEqual({ done: true, n: 3001 });
  expect(Object.keys(await epochs(page, 'rk1'))).toEqual(['2']);
  // the files rotated in the browser, copied out of OPFS, verify with the native CLI
  const { out, tables } = await nativeCheck(page, 'rk1');
  expect(out).toMatch(/^ok: \d+ pages verified/);
  expect(tables).toMatch(/^t\t0\t3001$/m);
});

test('rotation in the owner tab while another tab reads and writes: no write lost, no value changed', async ({ page, context }) => {
  const a = await openTab(context, 'rk2'); // tabs.html: its own key
  await a.evaluate(async () => {
    const w = window as any;
    for (let b = 0; b < 3000; b += 500)
      await w.db.write((tx: any) => {
        for (let i = b; i < b + 500; i++) tx.table('t').put(`k${String(i).padStart(6, '0')}`, `v${i}:`.padEnd(300, 'x'));
      });
  });
  const b = await openTab(context, 'rk2');
  expect(await b.evaluate(() => (window as any).db.ep.isOwner)).toBe(false); // b's requests go through a's worker
  // b writes and reads in a loop while a rotates (whichever tab owns the database)
  await b.evaluate(() => {
    const w = window as any;
    w.stop = false;
    w.wrote = 0;
    w.bad = [];
    w.loop = (async () => {
      while (!w.stop) {
        const i = w.wrote;
        await w.db.write((tx: any) => tx.table('w').put(`w${i}`, `${i}`));
        w.wrote++;
        const v = w.dec(await w.db.read((tx: any) => tx.table('t').get(`k${String(i % 3000).padStart(6, '0')}`)));
        if (v !== `v${i % 3000}:`.padEnd(300, 'x')) w.bad.push(i);
      }
    })();
  });
  const r = await a.evaluate(async () => {
    const w = window as any;
    const p = await w.db.rotateKeys({ pagesPerStep: 8 });
    return { done: p.done, steps: p.steps };
  });
  const bs = await b.evaluate(async () => {
    const w = window as any;
    w.stop = true;
    await w.loop;
    const n = await w.db.read((tx: any) => tx.table('w').count());
    return { wrote: w.wrote, n, bad: w.bad };
  });
  expect(r.done).toBe(true);
  expect(r.steps).toBeGreaterThan(5);
  expect(bs.wrote).toBeGreaterThan(0);
  expect(bs.n).toBe(bs.wrote);
  expect(bs.bad).toEqual([]);
  const n = await a.evaluate(async () => (window as any).db.read((tx: any) => tx.table('t').count()));
  expect(n).toBe(3000);
  // the tab that does not own the database rotates too (its steps run in a's worker)
  const rb = await b.evaluate(async () => (await (window as any).db.rotateKeys({ realm: 0 })).done);
  expect(rb).toBe(true);
  await a.evaluate(() => (window as any).db.close());
  await b.evaluate(() => (window as any).db.close());
  await a.close();
  await b.close();
  await load(page);
  expect(Object.keys(await epochs(page, 'rk2'))).toEqual(['2']);
});

test('a page closed mid-rotation: the next page opens the database (first-load module), reads it, and resumes', async ({ page, context }) => {
  await fill(page, 'rk3', 4000);
  const a = await context.newPage();
  await load(a);
  await a.evaluate(() => {
    const w = window as any;
    w.steps = 0;
    w.pagedb.open('rk3', { key: w.key, create: false }).then((db: any) =>
      db.rotateKeys({ pagesPerStep: 4, rate: 200_000, onProgress: () => w.steps++ }).catch(() => undefined));
  });
  await a.waitForFunction(() => (window as any).steps >= 3, undefined, { timeout: 30_000 });
  await a.close(); // the worker (and the rotation) dies mid-way
  const r = await page.evaluate(async () => {
    const w = window as any;
    const open = () => w.pagedb.open('rk3', { key: w.key, create: false });
    let db;
    for (let i = 0; ; i++) {
      try {
        db = await open();
        break;
      } catch (e: any) {
        if (e.codeName !== 'PAGEDB_EBUSY' || i > 100) throw e;
        await new Promise((res) => setTimeout(res, 100)); // the closed page's handles go away
      }
    }
    const n0 = await db.read((tx: any) => tx.table('t').count());
    const first: any[] = [];
    const p = await db.rotateKeys({ onProgress: (q: any) => first.push(q) });
    const n1 = await db.read((tx: any) => tx.table('t').count());
    const pages = await db.verify();
    await db.close();
    return { n0, n1, done: p.done, resumedAt: first[0].pagesDone, pages };
  });
  expect(r.n0).toBe(4000);
  expect(r.n1).toBe(4000);
  expect(r.done).toBe(true);
  expect(r.resumedAt).toBeGreaterThan(0);
  expect(r.pages).toBeGreaterThan(0);
  expect(Object.keys(await epochs(page, 'rk3'))).toEqual(['1']);
});

/** In the page: epoch -> page count of the sealed pages of every segment file, and the
    names of the directory's files (database closed). */
async function segEpochs(page: Page, name: string): Promise<{ epochs: Record<string, number>; names: string[] }> {
  return page.evaluate(async (name) => {
    const files = (await (window as any).rawFiles(name)) as Record<string, Uint8Array>;
    const out: Record<string, number> = {};
    for (const [n, f] of Object.entries(files)) {
      if (!/^seg-.*\.pds$/.test(n)) continue;
      const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
      for (let o = 0; o + 4096 <= f.length; o += 4096) {
        if (f[o] === 0) continue;
        const e = String(dv.getUint32(o + 8, true));
        out[e] = (out[e] ?? 0) + 1;
      }
    }
    return { epochs: out, names: Object.keys(files).sort() };
  }, name);
}

test('a realm with segments: each re-sealed segment file is moved over its file between steps (close, move(), reopen); abort and resume; busy switch is bounded; bad options', async ({ page }) => {
  await fill(page, 'rk4', 500);
  const r = await page.evaluate(async () => {
    const w = window as any;
    const db = await w.pagedb.open('rk4', { key: w.key, create: false });
    const bad = await db.rotateKeys({ realm: 'x' }).then(() => 'ok', (e: any) => e.codeName);
    const seg = await db.segments.create();
    await seg.append(new Uint8Array(10_000).fill(5));
    const t0 = Date.now();
    const busy = await db.rotateKeys({ busyTimeout: 300 }).then(() => 'ok', (e: any) => [e.codeName, e.message]);
    const busyMs = Date.now() - t0;
    await seg.seal();
    await db.write((tx: any) => tx.segments.link(seg.id));
    await seg.close();
    const open2 = await db.segments.create(); // a linked segment left unsealed: its tail is re-sealed too
    await open2.append(new Uint8Array(9_000).fill(7));
    await open2.sync();
    await db.write((tx: any) => tx.segments.link(open2.id));
    await open2.close();
    // abort in phase 5 (segment files), then resume
    const ac = new AbortController();
    const aborted = await db.rotateKeys({ signal: ac.signal, onProgress: (p: any) => { if (p.phase === 5) ac.abort(); } })
      .then(() => 'resolved', (e: any) => e.codeName);
    const mid = await db.segments.open(seg.id);
    const midBack = (await mid.read(0, 10_000)).every((x: number) => x === 5);
    await mid.close();
    const fin = await db.rotateKeys().then((p: any) => p.done, (e: any) => [e.codeName, e.message]);
    const back: boolean[] = [];
    for (const [id, n, v] of [[seg.id, 10_000, 5], [open2.id, 9_000, 7]] as [bigint, number, number][]) {
      const s = await db.segments.open(id);
      back.push((await s.read(0, n)).every((x: number) => x === v));
      await s.close();
    }
    const other = await db.rotateKeys({ realm: 7 }).then(() => 'ok', (e: any) => e.codeName);
    const pages = await db.verify();
    await db.close();
    return { bad, busy, busyMs, aborted, midBack, fin, back, other, pages };
  });
  expect(r.bad).toBe('PAGEDB_EINVAL');
  expect(r.busy[0]).toBe('PAGEDB_EBUSY');
  expect(r.busy[1]).toMatch(/segment handle/);
  expect(r.busyMs).toBeLessThan(5000);
  expect(r.aborted).toBe('PAGEDB_ECANCELED');
  expect(r.midBack).toBe(true);
  expect(r.fin).toBe(true);
  expect(r.back).toEqual([true, true]);
  expect(r.other).toBe('PAGEDB_ENOTFOUND');
  expect(r.pages).toBeGreaterThan(0);
  expect(Object.keys(await epochs(page, 'rk4'))).toEqual(['1']);
  const s = await segEpochs(page, 'rk4');
  expect(Object.keys(s.epochs)).toEqual(['1']); // every page of both segment files re-sealed
  expect(s.names.filter((n) => n.endsWith('.pds'))).toHaveLength(2);
  expect(s.names.filter((n) => !/^(main\.pdb|seg-[0-9a-f]{16}\.pds)$/.test(n))).toEqual([]); // no .pdn left
  const { out } = await nativeCheck(page, 'rk4'); // the segment files too
  expect(out).toMatch(/^ok: \d+ pages verified/);
});

test('rotateKeys from a dedicated worker that runs the engine itself (local.ts): same switch, same result', async ({ context, page }) => {
  const wp = await context.newPage();
  const started = wp.waitForEvent('worker');
  await wp.goto('/tests/browser/pages/worker.html?db=rkw');
  const w = await started;
  const end = Date.now() + 20_000;
  while (!(await w.evaluate(() => (self as any).ready === true))) {
    if (Date.now() > end) throw new Error('worker did not open the database');
    await new Promise((r) => setTimeout(r, 50));
  }
  const r = await w.evaluate(async () => {
    const db = (self as any).db;
    const where = db.engineLocation; // 'none' once closed
    for (let b = 0; b < 1000; b += 500)
      await db.write((tx: any) => {
        for (let i = b; i < b + 500; i++) tx.table('t').put(`k${i}`, `v${i}`.padEnd(200, 'y'));
      });
    const p = await db.rotateKeys({ pagesPerStep: 8 });
    const n = await db.read((tx: any) => tx.table('t').count());
    const pages = await db.verify();
    await db.close();
    return { where, done: p.done, n, pages };
  });
  expect(r).toEqual({ where: 'this-thread', done: true, n: 1000, pages: r.pages });
  expect(r.pages).toBeGreaterThan(0);
  await wp.close();
  await load(page);
  expect(Object.keys(await epochs(page, 'rkw'))).toEqual(['1']);
});
