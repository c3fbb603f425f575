// Snapshot streams from the TypeScript package under Node, on real files (pagedb.h
// "Snapshots", docs/FORMAT.md §14): db.exportSnapshot (a pull-based ReadableStream) and
// importSnapshot, against each other and against the native CLI (`pagedb snapshot` /
// `pagedb restore`, built by scripts/test-js.sh).
import { describe, it, expect, beforeEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, importSnapshot, ErrorCode, type Database, type SnapshotProgress } from '../../dist/node.js';
import { rejectsWith } from './util.js';

const root = path.resolve(__dirname, '../..');
const nativeCli = process.env.PAGEDB_NATIVE_CLI ?? path.join(root, 'build/release/pagedb');
const key = Uint8Array.from({ length: 32 }, (_, i) => 7 * i + 1);
const env = { ...process.env, PAGEDB_KEY: Buffer.from(key).toString('hex') };
const enc = new TextEncoder();
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-snapshot-'));
});

/** Every table and entry of db, as text (hex values), in order. */
async function dump(db: Database): Promise<string> {
  const out: string[] = [];
  for (const t of await db.tables()) {
    out.push(`table ${t.name} realm ${t.realm}`);
    for await (const [k, v] of db.range(t.name)) out.push(`${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`);
  }
  return out.join('\n');
}

/** Read a stream whole, recording each chunk's size. */
async function collect(s: ReadableStream<Uint8Array>, sizes: number[] = []): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const r = s.getReader();
  for (;;) {
    const { done, value } = await r.read();
    if (done) break;
    parts.push(value);
    sizes.push(value.length);
  }
  return Buffer.concat(parts);
}

/** A stream of `bytes` in chunks of `n` bytes. */
function streamOf(bytes: Uint8Array, n = 100_000): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= bytes.length) return c.close();
      c.enqueue(bytes.slice(off, off + n));
      off += n;
    },
  });
}

/** sha256 of every file in a directory (name -> hash). */
function hashes(d: string): Record<string, string> {
  const h: Record<string, string> = {};
  for (const f of fs.readdirSync(d).sort()) h[f] = createHash('sha256').update(fs.readFileSync(path.join(d, f))).digest('hex');
  return h;
}

/** Fill `n` rows of about `vlen` bytes into table t (keys k<i>), in one commit. */
async function fill(db: Database, t: string, from: number, n: number, vlen: number): Promise<void> {
  await db.write((tx) => {
    for (let i = from; i < from + n; i++) tx.table(t).put(`k${String(i).padStart(6, '0')}`, enc.encode(`v${i}:`.padEnd(vlen, String.fromCharCode(97 + (i % 26)))));
  });
}

async function exportAll(db: Database, since?: number): Promise<{ bytes: Uint8Array; last: SnapshotProgress; sizes: number[] }> {
  let last: SnapshotProgress | undefined;
  const sizes: number[] = [];
  const bytes = await collect(db.exportSnapshot({ since, onProgress: (p) => (last = p) }), sizes);
  return { bytes, last: last!, sizes };
}

describe('snapshot export/import (Node)', () => {
  it('a full and an incremental stream restore a database equal to the source', async () => {
    const src = await open('src', { key, directory: dir });
    await fill(src, 'a', 0, 3000, 600); // ~2 MB: several windows
    await src.write((tx) => tx.table('b').put('x', 'y'));
    const full = await exportAll(src);
    expect(full.sizes.length).toBeGreaterThan(1); // streamed in chunks
    expect(full.last.targetTxn).toBe((await src.stat()).txnId);
    const fullDump = await dump(src);

    await importSnapshot('dst', streamOf(full.bytes), { key, directory: dir });
    let dst = await open('dst', { key, directory: dir, create: false });
    expect(await dump(dst)).toBe(fullDump);
    expect(await dst.verify()).toBeGreaterThan(0);
    await dst.close();

    // changes after the full stream: puts, deletes, a dropped and a new table
    await fill(src, 'a', 2500, 1000, 300);
    await src.write((tx) => {
      for (let i = 0; i < 500; i += 3) tx.table('a').delete(`k${String(i).padStart(6, '0')}`);
      tx.table('c').put('new', 'table');
    });
    await src.dropTable('b');
    const inc = await exportAll(src, full.last.targetTxn);
    expect(inc.bytes.length).toBeLessThan(full.bytes.length + 1_000_000);
    const incDump = await dump(src);
    expect(incDump).not.toBe(fullDump);

    const p = await importSnapshot('dst', streamOf(inc.bytes), { key, directory: dir });
    expect(p.targetTxn).toBe(inc.last.targetTxn);
    dst = await open('dst', { key, directory: dir, create: false });
    expect(await dump(dst)).toBe(incDump);
    expect(await dst.verify()).toBeGreaterThan(0);
    expect((await dst.stat()).txnId).toBe((await src.stat()).txnId);
    await dst.close();

    // the windows concatenate to exactly the native CLI's uninterrupted export
    await src.close();
    if (!fs.existsSync(nativeCli)) throw new Error(`missing ${nativeCli}: build the native CLI first (scripts/test-js.sh does)`);
    execFileSync(nativeCli, ['snapshot', path.join(dir, 'src'), path.join(dir, 'inc.native'), '--since', String(full.last.targetTxn)], { env });
    expect(Buffer.compare(fs.readFileSync(path.join(dir, 'inc.native')), Buffer.from(inc.bytes))).toBe(0);
  });

  it('a stream exported by the native CLI restores; a TS stream restores with the CLI', async () => {
    if (!fs.existsSync(nativeCli)) throw new Error(`missing ${nativeCli}: build the native CLI first (scripts/test-js.sh does)`);
    let db = await open('n', { key, directory: dir });
    await fill(db, 't', 0, 800, 200);
    const want = await dump(db);
    await db.close();
    const out = path.join(dir, 'n.snap');
    execFileSync(nativeCli, ['snapshot', path.join(dir, 'n'), out], { env });
    // an AsyncIterable source (a Node file stream)
    await importSnapshot('from-native', fs.createReadStream(out), { key, directory: dir });
    db = await open('from-native', { key, directory: dir, create: false });
    expect(await dump(db)).toBe(want);
    const ts = await exportAll(db);
    await db.close();
    expect(Buffer.compare(Buffer.from(ts.bytes), fs.readFileSync(out))).toBe(0); // same target: same bytes
    fs.writeFileSync(path.join(dir, 'ts.snap'), ts.bytes);
    execFileSync(nativeCli, ['restore', path.join(dir, 'by-cli'), path.join(dir, 'ts.snap')], { env });
    expect(execFileSync(nativeCli, ['verify', path.join(dir, 'by-cli')], { env, encoding: 'utf8' })).toMatch(/^ok: /);
    expect(execFileSync(nativeCli, ['scan', path.join(dir, 'by-cli'), 't'], { env, encoding: 'utf8' }))
      .toBe(execFileSync(nativeCli, ['scan', path.join(dir, 'n'), 't'], { env, encoding: 'utf8' }));
  });

  it('abort mid-export: ECANCELED, the snapshot is released and the database stays usable', async () => {
    const db = await open('src', { key, directory: dir });
    await fill(db, 'a', 0, 4000, 600);
    const ac = new AbortController();
    const r = db.exportSnapshot({ signal: ac.signal }).getReader();
    const first = await r.read();
    expect(first.done).toBe(false);
    expect(first.value!.length).toBeGreaterThan(0);
    ac.abort();
    const e = await rejectsWith(r.read(), ErrorCode.ECANCELED);
    expect(e.message).toMatch(/cancel/);
    // usable: writes, reads, verify; a new export; and close (no pinned transaction left)
    await fill(db, 'a', 4000, 10, 10);
    expect(await db.read((tx) => tx.table('a').count())).toBe(4010);
    expect(await db.verify()).toBeGreaterThan(0);
    // a reader's cancel() ends an export the same way
    const r2 = db.exportSnapshot().getReader();
    await r2.read();
    await r2.cancel();
    // an abort before the first read
    const pre = new AbortController();
    pre.abort();
    await rejectsWith(db.exportSnapshot({ signal: pre.signal }).getReader().read(), ErrorCode.ECANCELED);
    const again = await exportAll(db);
    await db.close();
    await importSnapshot('dst', streamOf(again.bytes), { key, directory: dir });
    const dst = await open('dst', { key, directory: dir, create: false });
    expect(await dst.read((tx) => tx.table('a').count())).toBe(4010);
    await dst.close();
  });

  it('a stream of many chunks reads every page once (bytesRead), equals the CLI byte for byte, and a cancel or close unpins', async () => {
    // ~12 MB: the old windowed export regenerated (and re-read) the prefix for every window
    const db = await open('big', { key, directory: dir });
    for (let i = 0; i < 6; i++) await fill(db, 'a', i * 3000, 3000, 600);
    const s0 = await db.stat();
    const { bytes, sizes } = await exportAll(db);
    const s1 = await db.stat();
    expect(sizes.length).toBeGreaterThanOrEqual(8); // several chunks
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1 << 20); // memory: a chunk, not the stream
    // pages read (plaintext, pagedb_stat bytes_read) while exporting: each page once, so at
    // most the stream's size (a page record is a page plus 25 bytes) plus the catalog
    const read = s1.bytesRead - s0.bytesRead;
    expect(read).toBeGreaterThan(bytes.length / 2);
    expect(read).toBeLessThanOrEqual(bytes.length + 256 * 1024);

    // a reader cancelled mid-stream unpins: rewrites then reuse the pages they free
    const rewrite = async (d: Database, round: number) => {
      for (let i = 0; i < 10; i++) await fill(d, 'a', 0, 200, 600 + round);
    };
    const r = db.exportSnapshot().getReader();
    await r.read();
    const p0 = (await db.stat()).pageCount;
    await rewrite(db, 1); // pinned: the freed pages are held, the file grows
    const p1 = (await db.stat()).pageCount;
    expect(p1).toBeGreaterThan(p0 + 100);
    await r.cancel();
    await rewrite(db, 2);
    await rewrite(db, 3);
    const p2 = (await db.stat()).pageCount;
    expect(p2 - p1).toBeLessThan((p1 - p0) / 4); // unpinned: the rewrites fit in freed pages

    // closing the database mid-export ends the export (nothing left pinned or open)
    const r2 = db.exportSnapshot().getReader();
    await r2.read();
    await db.close();
    await expect(r2.read()).rejects.toThrow();
    const again = await open('big', { key, directory: dir, create: false });
    const q0 = (await again.stat()).pageCount;
    await rewrite(again, 4);
    expect((await again.stat()).pageCount - q0).toBeLessThan((p1 - p0) / 4);
    const whole = await exportAll(again);
    await again.close();

    // the chunks concatenate to exactly the native CLI's uninterrupted export
    if (!fs.existsSync(nativeCli)) throw new Error(`missing ${nativeCli}: build the native CLI first (scripts/test-js.sh does)`);
    execFileSync(nativeCli, ['snapshot', path.join(dir, 'big'), path.join(dir, 'big.native')], { env });
    expect(Buffer.compare(fs.readFileSync(path.join(dir, 'big.native')), Buffer.from(whole.bytes))).toBe(0);
  });

  it('a flipped byte or a truncated stream is rejected with a typed error; the target is unchanged', async () => {
    const src = await open('src', { key, directory: dir });
    await fill(src, 'a', 0, 300, 100);
    const full = await exportAll(src);
    await fill(src, 'a', 300, 100, 100);
    const inc = await exportAll(src, full.last.targetTxn);
    await src.close();

    // full stream into a fresh name: every flip position class (magic, header, a page, the digest)
    for (const at of [3, 20, Math.floor(full.bytes.length / 2), full.bytes.length - 1]) {
      const bad = Uint8Array.from(full.bytes);
      bad[at] ^= 0x40;
      const e = await rejectsWith(importSnapshot('fresh', streamOf(bad), { key, directory: dir }), ErrorCode.EAUTH, ErrorCode.ECORRUPT);
      expect(e.message.length).toBeGreaterThan(0);
      expect(fs.existsSync(path.join(dir, 'fresh', 'main.pdb'))).toBe(false);
    }
    await rejectsWith(importSnapshot('fresh', streamOf(full.bytes.slice(0, full.bytes.length - 100)), { key, directory: dir }),
      ErrorCode.ECORRUPT, ErrorCode.EAUTH);
    // no spool file left next to the database directories
    expect(fs.readdirSync(dir).filter((n) => n.includes('.snapshot-'))).toEqual([]);

    // incremental stream onto a database at its base: unchanged byte for byte after a flip
    await importSnapshot('dst', streamOf(full.bytes), { key, directory: dir });
    const before = hashes(path.join(dir, 'dst'));
    const bad = Uint8Array.from(inc.bytes);
    bad[Math.floor(bad.length / 2)] ^= 1;
    await rejectsWith(importSnapshot('dst', streamOf(bad), { key, directory: dir }), ErrorCode.EAUTH, ErrorCode.ECORRUPT);
    expect(hashes(path.join(dir, 'dst'))).toEqual(before);
    // a wrong key: EKEY, unchanged
    await rejectsWith(importSnapshot('dst', streamOf(inc.bytes), { key: new Uint8Array(32), directory: dir }), ErrorCode.EKEY, ErrorCode.EAUTH);
    expect(hashes(path.join(dir, 'dst'))).toEqual(before);
    // an aborted import: ECANCELED, unchanged
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(importSnapshot('dst', streamOf(inc.bytes), { key, directory: dir, signal: ac.signal }), ErrorCode.ECANCELED);
    expect(hashes(path.join(dir, 'dst'))).toEqual(before);
    // the genuine stream still applies
    await importSnapshot('dst', streamOf(inc.bytes), { key, directory: dir });
    const dst = await open('dst', { key, directory: dir, create: false });
    expect(await dst.read((tx) => tx.table('a').count())).toBe(400);
    await dst.close();
  });
});
