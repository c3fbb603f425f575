// importSnapshot in Chromium on OPFS (js/src/snapshot_browser.ts, snapshot_import.ts; docs/
// FORMAT.md §14.4 "OPFS"): a full stream and three incrementals exported in the browser
// restore in the browser and equal the source at each target (Merkle root of the trailer,
// table contents, segments, verify); streams made by the native and the WASI CLI (byte for
// byte the same) restore in the browser, and the browser's full and incremental streams
// restore with both CLIs; a flipped byte
// and a truncated stream are rejected with the byte position and leave the directory as it
// was (no directory at all for a full import); an import whose renames stop midway (the
// test-only stop, as a crash there) leaves a database that opens at the base, and the same
// import run again completes it; a page closed mid-import leaves the base intact and the
// next import cleans up; a database open in a tab gives EBUSY, and a tab that opens the
// database during an import waits for it and sees the restored state.
import { test, expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freshPageEachTest, load } from './app_page';

freshPageEachTest();

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const nativeCli = process.env.PAGEDB_NATIVE_CLI ?? path.join(root, 'build/release/pagedb');
const keyHex = Buffer.from(Uint8Array.from({ length: 32 }, (_, i) => i * 3 + 1)).toString('hex'); // app.html's window.key

/** Installs helpers in the page: window.T (make/extend a source, export, snapshot of state). */
async function helpers(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as any;
    const { open } = w.pagedb;
    w.T = {
      bytes: async (s: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(s).arrayBuffer()),
      // the Merkle root of a stream's target (trailer body bytes 32..48, FORMAT.md §14.2)
      rootOf: (u: Uint8Array) => [...u.subarray(u.length - 32 - 16 - 64 + 32, u.length - 32 - 16 - 64 + 48)].map((b) => b.toString(16).padStart(2, '0')).join(''),
      // everything a restore must reproduce: txn, table t, segments (info and bytes), verify
      state: async (name: string) => {
        const db = await open(name, { key: w.key, create: false });
        try {
          const rows: string[] = [];
          for await (const [k, v] of db.iterate('t')) rows.push(`${w.dec(k)}=${w.dec(v)}`);
          const segs: string[] = [];
          for (const s of await db.segments.list()) {
            const h = await db.segments.open(s.id);
            const b = await h.read(0, Number(s.length));
            await h.close();
            segs.push(`${s.id}:${s.sealed}:${s.length}:${await w.sha256(b)}`);
          }
          const root = w.T.rootOf(await w.T.bytes(db.exportSnapshot()));
          return { txn: (await db.stat()).txnId, rows: rows.join(','), segs, root, verified: (await db.verify()) > 0 };
        } finally {
          await db.close();
        }
      },
      // one step of source history: rows, and a sealed segment every other step
      step: async (name: string, i: number) => {
        const db = await open(name, { key: w.key });
        let seg: any;
        if (i % 2 === 0) {
          seg = await db.segments.create();
          await seg.append(new Uint8Array(30000 + i * 1000).map((_, k) => (k * 31 + i) & 255));
          await seg.seal();
        }
        await db.write((tx: any) => {
          for (let j = 0; j < 300; j++) tx.table('t').put(`k${String(j * 7 + i).padStart(5, '0')}`, `v${i}-${j}-${'x'.repeat(j % 50)}`);
          if (i > 0) tx.table('t').delete(`k${String(i * 3).padStart(5, '0')}`);
          if (seg) tx.segments.link(seg.id, `segment ${i}`);
        });
        await seg?.close();
        const txn = (await db.stat()).txnId;
        await db.close();
        return txn;
      },
      exportFrom: async (name: string, since: number) => {
        const db = await open(name, { key: w.key, create: false });
        try {
          return await w.T.bytes(db.exportSnapshot({ since }));
        } finally {
          await db.close();
        }
      },
      imp: (name: string, bytes: Uint8Array, extra: object = {}) =>
        w.pagedb.importSnapshot(name, new Response(bytes).body, { key: w.key, ...extra }).then((p: any) => ({ ok: p }), (e: any) => ({ code: e.codeName, message: e.message })),
      files: async (name: string) => {
        const out: Record<string, string> = {};
        try {
          const d = await (await navigator.storage.getDirectory()).getDirectoryHandle(name);
          for await (const [n, h] of (d as any).entries()) out[n] = await w.sha256(await (await h.getFile()).arrayBuffer());
        } catch (e: any) {
          if (e.name === 'NotFoundError') return null;
          throw e;
        }
        return out;
      },
    };
  });
}

test('a full stream and three incrementals made in the browser restore in the browser and equal the source', async ({ page }) => {
  test.setTimeout(120_000);
  await helpers(page);
  const r = await page.evaluate(async () => {
    const T = (window as any).T;
    const out: any[] = [];
    let since = 0;
    for (let i = 0; i < 4; i++) {
      const txn = await T.step('src', i);
      const stream = await T.exportFrom('src', since);
      const want = await T.state('src');
      const progress: number[] = [];
      const res = await T.imp('copy', stream, { onProgress: (p: any) => progress.push(p.bytesDone) });
      const got = res.ok ? await T.state('copy') : null;
      out.push({ i, since, txn, res, want, got, progressLast: progress[progress.length - 1], size: stream.length, leftovers: Object.keys(await T.files('copy')).filter((n) => n.endsWith('.restore')) });
      since = txn;
    }
    return out;
  });
  for (const s of r) {
    expect(s.res.ok, JSON.stringify(s.res)).toBeTruthy();
    expect(s.res.ok.targetTxn).toBe(s.txn);
    expect(s.progressLast).toBe(s.size);
    expect(s.got).toEqual(s.want); // same txn, rows, segments, Merkle root; verify passes
    expect(s.got.txn).toBe(s.txn);
    expect(s.leftovers).toEqual([]);
  }
  expect(r[3].want.segs.length).toBe(2);
});

test('wrong base, open database, existing target, abort, bad chunks: typed errors and nothing changed', async ({ page }) => {
  await helpers(page);
  const r = await page.evaluate(async () => {
    const w = window as any, T = w.T;
    const t1 = await T.step('src', 0);
    const full = await T.exportFrom('src', 0);
    const t2 = await T.step('src', 1);
    const inc1 = await T.exportFrom('src', t1);
    await T.step('src', 2);
    const inc2 = await T.exportFrom('src', t2);
    const again = await T.imp('src', full); // a database is there
    await T.imp('copy', full);
    const before = await T.files('copy');
    const wrongBase = await T.imp('copy', inc2);
    const sameAfter = JSON.stringify(await T.files('copy')) === JSON.stringify(before);
    const db = await w.pagedb.open('copy', { key: w.key });
    const busy = await T.imp('copy', inc1);
    // the early EBUSY also ends an import whose stream never delivers (it is cancelled)
    let cancelled = false;
    const never = new ReadableStream({ pull: () => new Promise(() => undefined), cancel: () => { cancelled = true; } });
    const busyNever = await w.pagedb.importSnapshot('copy', never, { key: w.key }).catch((e: any) => e.codeName);
    await db.close();
    // abort while the stream is read: ECANCELED, nothing created; a chunk of the wrong type: EINVAL
    const ac = new AbortController();
    let sentOne = false;
    const stalled = new ReadableStream({
      pull: (c) => {
        if (!sentOne) { sentOne = true; c.enqueue(full.slice(0, 1000)); setTimeout(() => ac.abort(), 200); return; }
        return new Promise(() => undefined);
      },
    });
    const aborted = await w.pagedb.importSnapshot('aborted', stalled, { key: w.key, signal: ac.signal }).catch((e: any) => e.codeName);
    const notBytes = await w.pagedb.importSnapshot('aborted', (async function* () { yield 'text'; })(), { key: w.key }).catch((e: any) => e.codeName);
    const abortedDir = await T.files('aborted');
    const noDb = await T.imp('nothing', inc1);
    const ok = await T.imp('copy', inc1);
    return { again, wrongBase, sameAfter, busy, busyNever, cancelled, aborted, notBytes, abortedDir, noDb, ok: !!ok.ok, noDir: await T.files('nothing') };
  });
  expect(r.busyNever).toBe('PAGEDB_EBUSY');
  expect(r.cancelled).toBe(true);
  expect(r.aborted).toBe('PAGEDB_ECANCELED');
  expect(r.notBytes).toBe('PAGEDB_EINVAL');
  expect(r.abortedDir).toBeNull();
  expect(r.again.code).toBe('PAGEDB_EEXIST');
  expect(r.wrongBase.code).toBe('PAGEDB_ECONFLICT');
  expect(r.sameAfter).toBe(true);
  expect(r.busy.code).toBe('PAGEDB_EBUSY');
  expect(r.noDb.code).toBe('PAGEDB_ENOTFOUND');
  expect(r.noDir).toBeNull();
  expect(r.ok).toBe(true);
});

test('a flipped byte or a truncated stream is rejected with its position; the directory is unchanged', async ({ page }) => {
  test.setTimeout(120_000);
  await helpers(page);
  const r = await page.evaluate(async () => {
    const T = (window as any).T;
    const t1 = await T.step('src', 0);
    const full = await T.exportFrom('src', 0);
    await T.step('src', 2);
    const inc = await T.exportFrom('src', t1);
    const out: any[] = [];
    const cases = (s: Uint8Array) => {
      const flips = [20, 700, Math.floor(s.length / 2), s.length - 100, s.length - 1].map((at) => {
        const b = s.slice();
        b[at] ^= 0x40;
        return { what: `flip ${at}`, b };
      });
      return [...flips, { what: 'truncated', b: s.slice(0, s.length - 1000) }, { what: 'truncated to 5', b: s.slice(0, 5) }];
    };
    for (const c of cases(full)) out.push({ kind: 'full', what: c.what, res: await T.imp('copy', c.b), files: await T.files('copy') });
    await T.imp('copy', full);
    const before = await T.files('copy');
    for (const c of cases(inc)) {
      const res = await T.imp('copy', c.b);
      out.push({ kind: 'inc', what: c.what, res, same: JSON.stringify(await T.files('copy')) === JSON.stringify(before) });
    }
    const ok = await T.imp('copy', inc);
    return { out, ok: !!ok.ok, state: await T.state('copy'), want: await T.state('src') };
  });
  for (const o of r.out) {
    expect(o.res.ok, `${o.kind} ${o.what}`).toBeUndefined();
    expect(['PAGEDB_EAUTH', 'PAGEDB_ECORRUPT'], `${o.kind} ${o.what}: ${o.res.code} ${o.res.message}`).toContain(o.res.code);
    expect(o.res.message, `${o.kind} ${o.what}`).toMatch(/byte/);
    if (o.kind === 'full') expect(o.files, `${o.kind} ${o.what}`).toBeNull(); // not even the directory
    else expect(o.same, `${o.kind} ${o.what}`).toBe(true);
  }
  expect(r.ok).toBe(true);
  expect(r.state).toEqual(r.want);
});

test('renames stopped midway (as a crash) leave the base; the same import run again completes it', async ({ page }) => {
  test.setTimeout(120_000);
  await helpers(page);
  const r = await page.evaluate(async () => {
    const w = window as any, T = w.T;
    const t0 = await T.step('src', 0);
    const full = await T.exportFrom('src', 0);
    const wantFull = await T.state('src');
    // full import stopped after its segment rename, before main.pdb's: not a database
    const s1 = await T.imp('copy', full, { testStopAfterRenames: 1 });
    const afterStop1 = await T.files('copy');
    const listed = await w.pagedb.listDatabases();
    const openFails = await w.pagedb.open('copy', { key: w.key, create: false }).then(async (d: any) => (await d.close(), 'opened'), (e: any) => e.codeName);
    const r1 = await T.imp('copy', full);
    const got1 = await T.state('copy');
    // incremental with two new sealed segments, stopped after each possible rename count
    await T.step('src', 1);
    await T.step('src', 2);
    await T.step('src', 4);
    const inc = await T.exportFrom('src', t0);
    const want = await T.state('src');
    const stops: any[] = [];
    for (const k of [0, 1, 2]) {
      const s = await T.imp('copy', inc, { testStopAfterRenames: k });
      stops.push({ k, code: s.code, message: s.message, state: await T.state('copy') });
    }
    const r2 = await T.imp('copy', inc);
    return { s1, afterStop1, listed, openFails, r1: !!r1.ok, got1, wantFull, stops, r2: !!r2.ok, got2: await T.state('copy'), want, files: await T.files('copy') };
  });
  expect(r.s1.code).toBe('PAGEDB_EIO');
  expect(r.s1.message).toMatch(/after 1 of 2 renames/);
  expect(Object.keys(r.afterStop1).sort()).toEqual(expect.arrayContaining(['main.pdb.restore']));
  expect(Object.keys(r.afterStop1)).not.toContain('main.pdb');
  expect(r.listed).toEqual(['src']);
  expect(r.openFails).toBe('PAGEDB_ENOTFOUND');
  expect(r.r1).toBe(true);
  expect(r.got1).toEqual(r.wantFull);
  for (const s of r.stops) {
    expect(s.code).toBe('PAGEDB_EIO');
    expect(s.state).toEqual(r.got1); // still the base: main.pdb not yet replaced
  }
  expect(r.r2).toBe(true);
  expect(r.got2).toEqual(r.want);
  expect(Object.keys(r.files).filter((n) => n.endsWith('.restore'))).toEqual([]);
});

test('a page closed during an import leaves the base; the next import completes and cleans up', async ({ page, context }) => {
  test.setTimeout(120_000);
  await helpers(page);
  const base = await page.evaluate(async () => {
    const T = (window as any).T;
    const t0 = await T.step('src', 0);
    await T.imp('copy', await T.exportFrom('src', 0));
    const db = await (window as any).pagedb.open('src', { key: (window as any).key });
    const v = 'y'.repeat(2000);
    for (let c = 0; c < 3; c++) await db.write((tx: any) => { for (let i = 0; i < 1000; i++) tx.table('t').put(`big${c}-${i}`, `${v}${c}${i}`); });
    await db.close();
    const inc = await T.exportFrom('src', t0);
    (window as any).inc = inc;
    await (window as any).putFiles('stream-file', { inc }); // for the second page
    return { state: await T.state('copy'), size: inc.length };
  });
  expect(base.size).toBeGreaterThan(5_000_000);
  // a second page starts the import, fed slowly, and is closed mid-way
  const p2 = await context.newPage();
  await load(p2);
  await p2.evaluate(async () => {
    const w = window as any;
    const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('stream-file');
    const bytes = new Uint8Array(await (await (await d.getFileHandle('inc')).getFile()).arrayBuffer());
    let off = 0;
    const slow = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (off >= bytes.length) return c.close();
        await new Promise((r) => setTimeout(r, 100));
        c.enqueue(bytes.slice(off, off + 1_000_000));
        off += 1_000_000;
      },
    });
    w.progress = 0;
    w.pagedb.importSnapshot('copy', slow, { key: w.key, onProgress: (p: any) => (w.progress = p.bytesDone) }).catch(() => undefined);
  });
  await p2.waitForFunction(() => (window as any).progress > 2_000_000);
  await p2.close();
  await helpers(page);
  const r = await page.evaluate(async () => {
    const T = (window as any).T;
    const files = Object.keys(await T.files('copy'));
    const state = await T.state('copy');
    const again = await T.imp('copy', (window as any).inc);
    return { files, state, again: !!again.ok, after: await T.state('copy'), want: await T.state('src'), left: Object.keys(await T.files('copy')) };
  });
  expect(r.files).toContain('stream.restore'); // the spool of the interrupted import
  expect(r.state).toEqual(base.state); // the base, intact
  expect(r.again).toBe(true);
  expect(r.after).toEqual(r.want);
  expect(r.left.filter((n: string) => n.endsWith('.restore'))).toEqual([]);
});

test('streams of the native and WASI CLIs restore in the browser, and the browser\'s restore with both', async ({ page }) => {
  test.setTimeout(120_000);
  if (!fs.existsSync(nativeCli)) throw new Error(`missing ${nativeCli}: build the native CLI first (scripts/test-js.sh does)`);
  if (!fs.existsSync(path.join(root, 'build/wasi/pagedb.wasm')) && !fs.existsSync(path.join(root, 'dist/wasi/pagedb.wasm')))
    throw new Error('missing the WASI CLI: run scripts/build-wasi.sh cli first (scripts/test-js.sh does)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-browser-imp-'));
  const env = { ...process.env, PAGEDB_KEY: keyHex };
  const cli = (...a: string[]) => execFileSync(nativeCli, a, { env, encoding: 'utf8', cwd: dir });
  const wasi = (...a: string[]) => execFileSync(process.execPath, [path.join(root, 'js/bin/pagedb-wasi.mjs'), ...a], { env, encoding: 'utf8', cwd: dir });
  cli('init', 'db');
  for (let i = 0; i < 20; i++) cli('put', 'db', 't', `n${i}`, `native ${i}`);
  cli('snapshot', 'db', 'full');
  wasi('snapshot', 'db', 'wfull');
  const t1 = Number(/txn[^0-9]*(\d+)/i.exec(cli('stat', 'db'))![1]);
  cli('put', 'db', 't', 'later', 'incremental');
  cli('snapshot', 'db', 'inc', '--since', String(t1));
  wasi('snapshot', 'db', 'winc', '--since', String(t1));
  const read = (f: string) => [...fs.readFileSync(path.join(dir, f))];
  // the export is a function of the database, B and T (FORMAT.md §14.5): both CLIs agree
  expect(Buffer.compare(fs.readFileSync(path.join(dir, 'wfull')), fs.readFileSync(path.join(dir, 'full')))).toBe(0);
  expect(Buffer.compare(fs.readFileSync(path.join(dir, 'winc')), fs.readFileSync(path.join(dir, 'inc')))).toBe(0);
  await helpers(page);
  const r = await page.evaluate(async ({ full, inc, wfull, winc }) => {
    const T = (window as any).T;
    const a = await T.imp('nat', new Uint8Array(full));
    const s1 = await T.state('nat');
    const b = await T.imp('nat', new Uint8Array(inc));
    const s2 = await T.state('nat');
    const wa = await T.imp('wasi', new Uint8Array(wfull));
    const wb = await T.imp('wasi', new Uint8Array(winc));
    const s3 = await T.state('wasi');
    // the browser's own streams of the restored database, for the CLIs
    const bfull = await T.exportFrom('nat', 0);
    const binc = await T.exportFrom('nat', s1.txn);
    return { a, b, wa, wb, s1, s2, s3, fullRoot: T.rootOf(new Uint8Array(full)), incRoot: T.rootOf(new Uint8Array(inc)), bfull: [...bfull], binc: [...binc] };
  }, { full: read('full'), inc: read('inc'), wfull: read('wfull'), winc: read('winc') });
  expect(r.a.ok).toBeTruthy();
  expect(r.b.ok).toBeTruthy();
  expect(r.wa.ok).toBeTruthy();
  expect(r.wb.ok).toBeTruthy();
  expect(r.s1.root).toBe(r.fullRoot);
  expect(r.s2.root).toBe(r.incRoot);
  expect(r.s2.rows).toContain('later=incremental');
  expect(r.s2.rows).toContain('n19=native 19');
  expect(r.s2.verified).toBe(true);
  expect(r.s3).toEqual(r.s2);
  // the browser's streams restore natively and under WASI, to the same state
  fs.writeFileSync(path.join(dir, 'bfull'), Buffer.from(r.bfull));
  fs.writeFileSync(path.join(dir, 'binc'), Buffer.from(r.binc));
  cli('restore', 'nback', 'bfull');
  wasi('restore', 'wback', 'bfull');
  for (const d of ['nback', 'wback']) {
    expect(cli('verify', d)).toMatch(/^ok: /);
    expect(cli('get', d, 't', 'later')).toBe('incremental\n');
  }
  // the browser's incremental on a CLI restore of the full stream at its base
  cli('restore', 'nback2', 'full', 'binc');
  wasi('restore', 'wback2', 'full', 'binc');
  for (const d of ['nback2', 'wback2']) expect(cli('get', d, 't', 'later')).toBe('incremental\n');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a tab that opens the database during an import waits for it and sees the result', async ({ page, context }) => {
  await helpers(page);
  await page.evaluate(async () => {
    const T = (window as any).T;
    await T.step('src', 0);
    await T.step('src', 1);
    await (window as any).putFiles('stream-file', { full: await T.exportFrom('src', 0) });
  });
  const want = await page.evaluate(() => (window as any).T.state('src'));
  // this page imports, fed slowly (10 pieces, 150 ms apart)
  await page.evaluate(async () => {
    const w = window as any;
    const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('stream-file');
    const bytes = new Uint8Array(await (await (await d.getFileHandle('full')).getFile()).arrayBuffer());
    const piece = Math.ceil(bytes.length / 10);
    let off = 0;
    const slow = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (off >= bytes.length) return c.close();
        await new Promise((r) => setTimeout(r, 150));
        c.enqueue(bytes.slice(off, off + piece));
        off += piece;
      },
    });
    w.progress = 0;
    w.imported = w.pagedb.importSnapshot('copy', slow, { key: w.key, onProgress: (p: any) => (w.progress = p.bytesDone) })
      .then(() => 'ok', (e: any) => e.codeName).finally(() => (w.doneAt = Date.now()));
  });
  await page.waitForFunction(() => (window as any).progress > 0);
  const p2 = await context.newPage();
  await load(p2);
  const opened = await p2.evaluate(async () => {
    const w = window as any;
    const openAt = Date.now();
    const db = await w.pagedb.open('copy', { key: w.key, create: false });
    const rows: string[] = [];
    for await (const [k, v] of db.iterate('t')) rows.push(`${w.dec(k)}=${w.dec(v)}`);
    const txn = (await db.stat()).txnId;
    await db.close();
    return { rows: rows.join(','), txn, openAt };
  });
  expect(await page.evaluate(() => (window as any).imported)).toBe('ok');
  expect(opened.openAt).toBeLessThan(await page.evaluate(() => (window as any).doneAt)); // opened during the import
  expect({ rows: opened.rows, txn: opened.txn }).toEqual({ rows: want.rows, txn: want.txn });
  await p2.close();
});

test('deleteDatabase removes what an interrupted full import left (no main.pdb yet), and refuses while an import runs', async ({ page }) => {
  test.setTimeout(120_000);
  await helpers(page);
  const r = await page.evaluate(async () => {
    const w = window as any, T = w.T;
    await T.step('src', 0);
    const full = await T.exportFrom('src', 0);
    // a full import stopped before main.pdb's rename: main.pdb.restore and a renamed segment
    const s = await T.imp('copy', full, { testStopAfterRenames: 1 });
    const left = Object.keys(await T.files('copy')).sort();
    // while another context holds the owner lock (as a running import does): EBUSY, kept
    let release: () => void = () => {};
    const held = new Promise<void>((res) => (release = res));
    let locked: () => void = () => {};
    const gotLock = new Promise<void>((res) => (locked = res));
    const holder = navigator.locks.request('pagedb:copy:owner', async () => { locked(); await held; });
    await gotLock;
    const busy = await w.pagedb.deleteDatabase('copy').then(() => 'deleted', (e: any) => e.codeName);
    const keptWhileBusy = Object.keys(await T.files('copy')).sort();
    release();
    await holder;
    const deleted = await w.pagedb.deleteDatabase('copy');
    const listed = await w.pagedb.listDatabases();
    // a directory of other files (no main.pdb, no main.pdb.restore) is still not deleted
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('other', { create: true });
    await dir.getFileHandle('notes.txt', { create: true });
    const other = await w.pagedb.deleteDatabase('other').then(() => 'deleted', (e: any) => e.codeName);
    return { code: s.code, left, busy, keptWhileBusy, deleted, listed, other };
  });
  expect(r.code).toBe('PAGEDB_EIO');
  expect(r.left).toContain('main.pdb.restore');
  expect(r.left).not.toContain('main.pdb');
  expect(r.busy).toBe('PAGEDB_EBUSY');
  expect(r.keptWhileBusy).toEqual(r.left);
  expect(r.deleted).toBe(true);
  expect(r.listed).toEqual(['src']);
  expect(r.other).toBe('PAGEDB_ENOTDB');
});
