// db.compact in the lazily loaded full module under Node (scripts/build-emscripten.sh: the
// first-load dist/pagedb.wasm is built with -DPAGEDB_NO_COMPACT; the first compaction step
// switches the open database to dist/pagedb-full.wasm, js/src/rotate_engine.ts). A
// database compacted there, or left mid-compaction, must open and work in the first-load
// module (every fresh open() loads that one), and the switch needs the database idle:
// EBUSY, retried up to busyTimeout.
import { describe, it, expect, beforeEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, ErrorCode, type Database, type MaintenanceProgress } from '../../dist/node.js';
import { rejectsWith } from './util.js';

const key = Uint8Array.from({ length: 32 }, (_, i) => 7 * i + 1);
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-compact-full-'));
});

const mainBytes = (name: string) => fs.statSync(path.join(dir, name, 'main.pdb')).size;
const val = (i: number) => `v${i}:`.padEnd(300, String(i % 10));
const k = (i: number) => `k${String(i).padStart(6, '0')}`;

/** n entries in table t, then every key with i % 8 != 0 (but the last 100) deleted; returns the kept indices. */
async function fillAndThin(db: Database, n: number): Promise<number[]> {
  for (let b = 0; b < n; b += 500)
    await db.write((tx) => {
      for (let i = b; i < Math.min(n, b + 500); i++) tx.table('t').put(k(i), val(i));
    });
  const kept: number[] = [];
  for (let b = 0; b < n; b += 500)
    await db.write((tx) => {
      for (let i = b; i < Math.min(n, b + 500); i++) {
        if (i % 8 === 0 || i >= n - 100) kept.push(i);
        else tx.table('t').delete(k(i));
      }
    });
  return kept;
}

/** Require table t to hold exactly the entries `kept` (each value read back with get and in a range scan). */
async function expectAll(db: Database, kept: number[]): Promise<void> {
  const got: string[] = [];
  for await (const [kk] of db.range('t')) got.push(Buffer.from(kk).toString());
  expect(got).toEqual(kept.map(k));
  await db.read(async (tx) => {
    for (const i of kept) expect(Buffer.from((await tx.table('t').get(k(i)))!).toString()).toBe(val(i));
  });
}

describe('db.compact in the full module', () => {
  it('a database compacted in the full module reopens in the first-load module and reads every value', async () => {
    const db = await open('f1', { directory: dir, key });
    const kept = await fillAndThin(db, 5000);
    const before = mainBytes('f1');
    const r = await db.compact({ pagesPerStep: 64 });
    expect(r.done).toBe(true);
    expect(mainBytes('f1')).toBeLessThan(before / 2);
    // served by the full module now: reads, writes and a second compaction work
    await expectAll(db, kept);
    await db.write((tx) => tx.table('z').put('zz', 'after'));
    expect((await db.compact()).done).toBe(true);
    await db.close();
    const re = await open('f1', { directory: dir, key, create: false }); // the first-load module
    await expectAll(re, kept);
    expect(Buffer.from((await re.read((tx) => tx.table('z').get('zz')))!).toString()).toBe('after');
    expect(await re.verify()).toBeGreaterThan(0);
    await re.close();
  }, 120_000);

  for (const at of [1, 5]) {
    it(`a database left mid-compaction (aborted before phase ${at}) reopens in the first-load module, reads and writes, and a later compact resumes to completion`, async () => {
      const db = await open('f2', { directory: dir, key });
      const kept = await fillAndThin(db, 5000);
      const before = mainBytes('f2');
      const ac = new AbortController();
      let last: MaintenanceProgress | undefined;
      // phase = the phase the next step runs; 5 = truncation pending: the header records the
      // shrunk page count while the file is still longer (FORMAT.md §12.5)
      await rejectsWith(db.compact({ pagesPerStep: 32, signal: ac.signal, onProgress: (p) => {
        last = p;
        if (p.phase === at && (at !== 1 || p.steps >= 3)) ac.abort();
      } }), ErrorCode.ECANCELED);
      expect(last!.phase).toBe(at);
      const pageSize = (await db.stat()).pageSize;
      if (at === 5) expect(mainBytes('f2')).toBeGreaterThan(last!.pageCount * pageSize);
      await db.close();
      const re = await open('f2', { directory: dir, key, create: false }); // the first-load module
      await expectAll(re, kept);
      await re.write((tx) => {
        for (let i = 0; i < 50; i++) tx.table('w').put(`n${i}`, val(i));
      });
      expect(await re.verify()).toBeGreaterThan(0);
      await re.close();
      const again = await open('f2', { directory: dir, key, create: false });
      const seen: MaintenanceProgress[] = [];
      const r = await again.compact({ pagesPerStep: 32, onProgress: (p) => seen.push(p) });
      expect(r.done).toBe(true);
      if (at === 1) expect(seen[0].pagesDone).toBeGreaterThan(0); // resumed: counts the steps before the abort
      expect(mainBytes('f2')).toBeLessThan(before / 2);
      expect(mainBytes('f2')).toBe(r.pageCount * pageSize);
      await expectAll(again, kept);
      let w = 0;
      for await (const _ of again.range('w')) w++;
      expect(w).toBe(50);
      await again.verify();
      await again.close();
    }, 120_000);
  }

  it('a read transaction open at the first step: EBUSY after busyTimeout (bounded), success once it ends', async () => {
    const db = await open('f3', { directory: dir, key });
    const kept = await fillAndThin(db, 3000);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const inTxn = new Promise<void>((r) => (started = r));
    const reader = db.read(async (tx) => {
      await tx.table('t').get(k(0));
      started();
      await held;
    });
    await inTxn;
    const t0 = Date.now();
    const e = await rejectsWith(db.compact({ busyTimeout: 300 }), ErrorCode.EBUSY);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(e.message).toMatch(/1 transaction\(s\).*still busy after 300 ms/);
    await rejectsWith(db.compact({ busyTimeout: -1 }), ErrorCode.EINVAL);
    // the default busyTimeout (5000 ms) outlasts a reader that ends after 300 ms
    const done = db.compact();
    setTimeout(release, 300);
    await reader;
    const r = await done;
    expect(r.done).toBe(true);
    await expectAll(db, kept);
    await db.close();
  }, 60_000);
});
