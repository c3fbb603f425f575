// Snapshot streams in Chromium on OPFS (pagedb.h "Snapshots", docs/FORMAT.md §14):
// db.exportSnapshot from the engine's worker (chunks transferred across the message
// boundary), restored by the native CLI (`pagedb restore`, built by scripts/test-js.sh) and
// put back into OPFS under another name, where it opens and verifies (importSnapshot in the
// browser: snapshot_import.spec.ts); a larger export arrives chunk by chunk, each asked of the
// engine only when the reader reads (never the whole stream at once); abort gives ECANCELED.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freshPageEachTest } from './app_page';

freshPageEachTest();

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const nativeCli = process.env.PAGEDB_NATIVE_CLI ?? path.join(root, 'build/release/pagedb');
const keyHex = Buffer.from(Uint8Array.from({ length: 32 }, (_, i) => i * 3 + 1)).toString('hex'); // app.html's window.key

test('export from OPFS, restore natively, reopen under another OPFS name', async ({ page }) => {
  const r = await page.evaluate(async () => {
    const { open } = (window as any).pagedb;
    const key = (window as any).key;
    const db = await open('src', { key });
    await db.write((tx: any) => {
      for (let i = 0; i < 500; i++) tx.table('t').put(`k${String(i).padStart(4, '0')}`, `value ${i}`);
    });
    const full = new Uint8Array(await new Response(db.exportSnapshot()).arrayBuffer());
    await db.write((tx: any) => tx.table('t').put('later', 'incremental'));
    const since = (await db.stat()).txnId - 1;
    const inc = new Uint8Array(await new Response(db.exportSnapshot({ since })).arrayBuffer());
    await db.close();
    const b64 = (u: Uint8Array) => { let s = ''; for (let i = 0; i < u.length; i += 8192) s += String.fromCharCode(...u.subarray(i, i + 8192)); return btoa(s); };
    return {
      full: b64(full), inc: b64(inc),
    };
  });

  if (!fs.existsSync(nativeCli)) throw new Error(`missing ${nativeCli}: build the native CLI first (scripts/test-js.sh does)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-browser-snap-'));
  const env = { ...process.env, PAGEDB_KEY: keyHex };
  fs.writeFileSync(path.join(dir, 'full'), Buffer.from(r.full, 'base64'));
  fs.writeFileSync(path.join(dir, 'inc'), Buffer.from(r.inc, 'base64'));
  execFileSync(nativeCli, ['restore', path.join(dir, 'db'), path.join(dir, 'full'), path.join(dir, 'inc')], { env });
  expect(execFileSync(nativeCli, ['verify', path.join(dir, 'db')], { env, encoding: 'utf8' })).toMatch(/^ok: /);
  expect(execFileSync(nativeCli, ['get', path.join(dir, 'db'), 't', 'later'], { env, encoding: 'utf8' })).toBe('incremental\n');
  // the restored files, put into OPFS under another name, open in the browser
  const files: Record<string, number[]> = {};
  for (const f of fs.readdirSync(path.join(dir, 'db'))) if (f === 'main.pdb' || /^seg-.*\.pds$/.test(f)) files[f] = [...fs.readFileSync(path.join(dir, 'db', f))];
  const back = await page.evaluate(async (files) => {
    await (window as any).putFiles('copy', files);
    const db = await (window as any).pagedb.open('copy', { key: (window as any).key, create: false });
    const out = { pages: await db.verify(), n: await db.read((tx: any) => tx.table('t').count()),
      later: (window as any).dec(await db.read((tx: any) => tx.table('t').get('later'))) };
    await db.close();
    return out;
  }, files);
  expect(back.pages).toBeGreaterThan(0);
  expect(back).toMatchObject({ n: 501, later: 'incremental' });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a larger export is streamed chunk by chunk, pulled by the reader; abort gives ECANCELED', async ({ page }) => {
  const r = await page.evaluate(async () => {
    const { open } = (window as any).pagedb;
    const db = await open('big', { key: (window as any).key });
    const v = 'x'.repeat(1000);
    for (let c = 0; c < 4; c++)
      await db.write((tx: any) => {
        for (let i = 0; i < 2000; i++) tx.table('t').put(`k${c}-${i}`, `${v}${c}${i}`);
      });
    const progress: number[] = [];
    const reader = db.exportSnapshot({ onProgress: (p: any) => progress.push(p.bytesDone) }).getReader();
    const sizes: number[] = [];
    const first = await reader.read();
    sizes.push(first.value.length);
    await new Promise((res) => setTimeout(res, 300));
    const afterIdle = progress.length; // nothing asked of the engine while the reader waits
    let total = first.value.length, largest = first.value.length;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      sizes.push(value.length);
      total += value.length;
      largest = Math.max(largest, value.length);
    }
    // abort mid-export: ECANCELED from the engine; the database stays usable
    const ac = new AbortController();
    const r2 = db.exportSnapshot({ signal: ac.signal }).getReader();
    await r2.read();
    ac.abort();
    const aborted = await r2.read().then(() => 'no error', (e: any) => e.codeName);
    await db.write((tx: any) => tx.table('t').put('after', 'abort'));
    const pages = await db.verify();
    await db.close();
    return { sizes, afterIdle, total, largest, lastProgress: progress[progress.length - 1], aborted, pages };
  });
  expect(r.total).toBeGreaterThan(8_000_000);
  expect(r.sizes.length).toBeGreaterThanOrEqual(4); // several chunks, not one buffer
  expect(r.largest).toBeLessThan(r.total / 2); // never the whole stream at once
  expect(r.afterIdle).toBe(1); // pull-based: one chunk produced per read
  expect(r.lastProgress).toBe(r.total);
  expect(r.aborted).toBe('PAGEDB_ECANCELED');
  expect(r.pages).toBeGreaterThan(0);
});

test('a many-chunk export reads each page once (bytesRead), equals the native CLI stream byte for byte, and cancel unpins', async ({ page }) => {
  const r = await page.evaluate(async () => {
    const { open } = (window as any).pagedb;
    const db = await open('many', { key: (window as any).key });
    const v = 'y'.repeat(600);
    for (let c = 0; c < 6; c++)
      await db.write((tx: any) => {
        for (let i = 0; i < 3000; i++) tx.table('t').put(`k${c}-${String(i).padStart(5, '0')}`, `${v}${c}${i}`);
      });
    const s0 = await db.stat();
    const reader = db.exportSnapshot().getReader();
    const parts: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
    const s1 = await db.stat();
    const total = parts.reduce((n, p) => n + p.length, 0);

    // a reader cancelled mid-stream unpins: rewrites then reuse the pages they free
    const rewrite = async (round: number) => {
      for (let k = 0; k < 10; k++)
        await db.write((tx: any) => {
          for (let i = 0; i < 200; i++) tx.table('t').put(`k0-${String(i).padStart(5, '0')}`, `${v}${round}${k}`);
        });
    };
    const r2 = db.exportSnapshot().getReader();
    await r2.read();
    const p0 = (await db.stat()).pageCount;
    await rewrite(1);
    const p1 = (await db.stat()).pageCount;
    await r2.cancel();
    await rewrite(2);
    await rewrite(3);
    const p2 = (await db.stat()).pageCount;
    // the final state's stream, for the native comparison
    const again = new Uint8Array(await new Response(db.exportSnapshot()).arrayBuffer());
    await db.close();
    const files = await (window as any).rawFiles('many');
    const b64 = (u: Uint8Array) => { let s = ''; for (let i = 0; i < u.length; i += 8192) s += String.fromCharCode(...u.subarray(i, i + 8192)); return btoa(s); };
    return {
      sizes: parts.map((p) => p.length), total, read: s1.bytesRead - s0.bytesRead,
      p0, p1, p2, againHash: await (window as any).sha256(again), againLen: again.length, main: b64(files['main.pdb']),
    };
  });
  expect(r.sizes.length).toBeGreaterThanOrEqual(8); // several chunks
  expect(Math.max(...r.sizes)).toBeLessThanOrEqual(1 << 20); // a chunk at most in memory
  // pages read (plaintext, pagedb_stat bytes_read) while exporting: each page once
  expect(r.read).toBeGreaterThan(r.total / 2);
  expect(r.read).toBeLessThanOrEqual(r.total + 256 * 1024);
  expect(r.p1).toBeGreaterThan(r.p0 + 100); // pinned: the file grew
  expect(r.p2 - r.p1).toBeLessThan((r.p1 - r.p0) / 4); // unpinned: freed pages reused
  // the database's files, exported by the native CLI: the same bytes as the browser's stream
  if (!fs.existsSync(nativeCli)) throw new Error(`missing ${nativeCli}: build the native CLI first (scripts/test-js.sh does)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-browser-snap-'));
  const env = { ...process.env, PAGEDB_KEY: keyHex };
  fs.mkdirSync(path.join(dir, 'db'));
  fs.writeFileSync(path.join(dir, 'db', 'main.pdb'), Buffer.from(r.main, 'base64'));
  execFileSync(nativeCli, ['snapshot', path.join(dir, 'db'), path.join(dir, 'native')], { env });
  const native = fs.readFileSync(path.join(dir, 'native'));
  expect(native.length).toBe(r.againLen);
  expect(createHash('sha256').update(native).digest('hex')).toBe(r.againHash);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('closing the database mid-export ends the export: the stream errors, nothing stays pinned', async ({ page }) => {
  const r = await page.evaluate(async () => {
    const { open } = (window as any).pagedb;
    const key = (window as any).key;
    const v = 'z'.repeat(600);
    const rewrite = async (db: any, round: number) => {
      for (let k = 0; k < 10; k++)
        await db.write((tx: any) => {
          for (let i = 0; i < 200; i++) tx.table('t').put(`k${String(i).padStart(5, '0')}`, `${v}${round}${k}`);
        });
    };
    let db = await open('closing', { key });
    for (let c = 0; c < 3; c++)
      await db.write((tx: any) => {
        for (let i = 0; i < 3000; i++) tx.table('t').put(`k${String(c * 3000 + i).padStart(5, '0')}`, v);
      });
    const reader = db.exportSnapshot().getReader();
    await reader.read();
    const p0 = (await db.stat()).pageCount;
    await rewrite(db, 1); // pinned by the export: the file grows
    const p1 = (await db.stat()).pageCount;
    await db.close();
    const after = await reader.read().then(() => 'no error', (e: any) => e.codeName ?? String(e));
    db = await open('closing', { key, create: false });
    await rewrite(db, 2);
    await rewrite(db, 3);
    const p2 = (await db.stat()).pageCount;
    const pages = await db.verify();
    await db.close();
    return { p0, p1, p2, after, pages };
  });
  expect(r.after).not.toBe('no error');
  expect(r.p1).toBeGreaterThan(r.p0 + 100);
  expect(r.p2 - r.p1).toBeLessThan((r.p1 - r.p0) / 4); // nothing pinned after the close: freed pages reused
  expect(r.pages).toBeGreaterThan(0);
});
