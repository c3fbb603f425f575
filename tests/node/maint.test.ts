// Online maintenance from the TypeScript package under Node, on real files (pagedb.h
// "Online maintenance", docs/FORMAT.md §12, §13): db.compact (steps, throttle, abort and
// resume) and db.rekey (the key-encryption key change; the old key fails with EKEY).
import { describe, it, expect, beforeEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, ErrorCode, type Database, type MaintenanceProgress } from '../../dist/node.js';
import { rejectsWith } from './util.js';

const key = Uint8Array.from({ length: 32 }, (_, i) => 3 * i + 5);
const key2 = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
// Argon2id at its minimum (1 pass, 8 KiB): the key change is what is tested, not the KDF
const fastKdf = { pwhashOpsLimit: 1, pwhashMemLimit: 8192 };
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-maint-'));
});

const mainBytes = (name: string) => fs.statSync(path.join(dir, name, 'main.pdb')).size;

/** Every entry of table t, as text, in order. */
async function dump(db: Database, t = 't'): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of db.range(t)) out.push(`${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`);
  return out;
}

/** n entries of ~400 bytes in table t, 500 per transaction; then every key not kept by keep() deleted. */
async function fillAndThin(db: Database, n: number, keep: (i: number) => boolean): Promise<void> {
  for (let b = 0; b < n; b += 500) {
    await db.write((tx) => {
      const t = tx.table('t');
      for (let i = b; i < Math.min(n, b + 500); i++) t.put(`k${String(i).padStart(6, '0')}`, `v${i}:`.padEnd(400, String(i % 10)));
    });
  }
  for (let b = 0; b < n; b += 500) {
    await db.write((tx) => {
      const t = tx.table('t');
      for (let i = b; i < Math.min(n, b + 500); i++) if (!keep(i)) t.delete(`k${String(i).padStart(6, '0')}`);
    });
  }
}

describe('db.compact', () => {
  it('shrinks main.pdb after deletes; the data stays equal and verifies; reopen sees the same', async () => {
    const db = await open('c1', { directory: dir, key });
    await fillAndThin(db, 6000, (i) => i % 10 === 0 || i >= 5800); // the tail stays: pages near the end are live
    const before = mainBytes('c1');
    const content = await dump(db);
    const seen: MaintenanceProgress[] = [];
    const r = await db.compact({ pagesPerStep: 64, onProgress: (p) => seen.push(p) });
    expect(r.done).toBe(true);
    expect(seen.length).toBeGreaterThan(1); // several steps
    expect(seen[seen.length - 1]).toEqual(r);
    expect(r.steps).toBe(seen.length);
    expect(r.bytesWritten).toBeGreaterThan(0);
    const after = mainBytes('c1');
    expect(after).toBeLessThan(before / 2);
    expect(after).toBe(r.pageCount * (await db.stat()).pageSize);
    expect(await dump(db)).toEqual(content);
    expect(await db.verify()).toBeGreaterThan(0);
    // nothing left: a second call completes at once, writing nothing
    const again = await db.compact();
    expect(again.done).toBe(true);
    expect(again.bytesWritten).toBe(0);
    expect(mainBytes('c1')).toBe(after);
    await db.close();
    const re = await open('c1', { directory: dir, key, create: false });
    expect(await dump(re)).toEqual(content);
    await re.verify();
    await re.close();
  }, 120_000);

  it('an abort between steps rejects ECANCELED; the database is consistent and the next call resumes to completion', async () => {
    const db = await open('c2', { directory: dir, key });
    await fillAndThin(db, 6000, (i) => i % 10 === 0 || i >= 5800);
    const before = mainBytes('c2');
    const content = await dump(db);
    const ac = new AbortController();
    let steps = 0;
    const e = await rejectsWith(db.compact({ pagesPerStep: 16, signal: ac.signal, onProgress: () => {
      if (++steps === 3) ac.abort();
    } }), ErrorCode.ECANCELED);
    expect(e.message).toMatch(/aborted after 3 steps/);
    // consistent mid-way: same content, verifies, not shrunk to the end yet
    expect(await dump(db)).toEqual(content);
    await db.verify();
    await db.close();
    // resumed by a new handle (the cursor is in the file): completes, does not start over
    const re = await open('c2', { directory: dir, key, create: false });
    const seen: MaintenanceProgress[] = [];
    const r = await re.compact({ pagesPerStep: 16, onProgress: (p) => seen.push(p) });
    expect(r.done).toBe(true);
    expect(seen[0].pagesDone).toBeGreaterThan(0); // counts the 3 steps before the abort
    expect(mainBytes('c2')).toBeLessThan(before / 2);
    expect(await dump(re)).toEqual(content);
    await re.verify();
    await re.close();
  }, 120_000);

  it('an already aborted signal rejects at once, changing nothing', async () => {
    const db = await open('c3', { directory: dir, key });
    await fillAndThin(db, 2000, (i) => i % 10 === 0);
    const st = await db.stat();
    await rejectsWith(db.compact({ signal: AbortSignal.abort() }), ErrorCode.ECANCELED);
    expect((await db.stat()).txnId).toBe(st.txnId);
    await db.close();
  }, 60_000);

  it('writes interleave with the steps, and a reader opened before keeps its snapshot', async () => {
    const db = await open('c4', { directory: dir, key });
    await fillAndThin(db, 4000, (i) => i % 10 === 0 || i >= 3800);
    const content = await dump(db);
    let reads = 0;
    const reader = db.read(async (tx) => {
      const t = tx.table('t');
      const first = await t.get('k000000');
      await new Promise((r) => setTimeout(r, 200)); // compaction steps run meanwhile
      expect(await t.get('k000000')).toEqual(first);
      reads++;
    });
    const writes: Promise<void>[] = [];
    const r = await db.compact({ pagesPerStep: 32, onProgress: (p) => {
      if (p.steps <= 3) writes.push(db.write((tx) => tx.table('w').put(`s${p.steps}`, 'x')));
    } });
    await reader;
    await Promise.all(writes);
    expect(reads).toBe(1);
    expect(r.done).toBe(true);
    expect(await dump(db)).toEqual(content);
    expect((await dump(db, 'w')).length).toBe(writes.length);
    await db.verify();
    await db.close();
  }, 120_000);

  it('rejects bad options and calls from inside a write, and read-only handles', async () => {
    const db = await open('c5', { directory: dir, key });
    await rejectsWith(db.compact({ rate: -1 }), ErrorCode.EINVAL);
    await rejectsWith(db.compact({ pagesPerStep: 1.5 }), ErrorCode.EINVAL);
    await rejectsWith(db.compact({ bogus: 1 } as never), ErrorCode.EINVAL);
    await db.write(async () => {
      await rejectsWith(db.compact(), ErrorCode.EMISUSE);
    });
    await db.close();
    const ro = await open('c5', { directory: dir, key, readOnly: true });
    await rejectsWith(ro.compact(), ErrorCode.EMISUSE);
    await ro.close();
  });
});

describe('db.rekey', () => {
  it('raw key -> new raw key: the Database keeps working, reopen with the new key works, the old key fails with EKEY', async () => {
    const db = await open('r1', { directory: dir, key });
    await db.write((tx) => tx.table('t').put('a', 'one'));
    let prog: MaintenanceProgress | undefined;
    await db.rekey({ newKey: key2, onProgress: (p) => (prog = p) });
    expect(prog).toMatchObject({ done: true, steps: 2, pagesDone: 0 });
    await db.write((tx) => tx.table('t').put('b', 'two'));
    expect(new TextDecoder().decode((await db.read((tx) => tx.table('t').get('a')))!)).toBe('one');
    await db.close();
    await rejectsWith(open('r1', { directory: dir, key, create: false }), ErrorCode.EKEY);
    const re = await open('r1', { directory: dir, key: key2, create: false });
    expect((await dump(re)).length).toBe(2);
    await re.verify();
    // a second change from the handle opened with key2
    await re.rekey({ newKey: key });
    await re.close();
    await rejectsWith(open('r1', { directory: dir, key: key2, create: false }), ErrorCode.EKEY);
    const back = await open('r1', { directory: dir, key, create: false });
    expect((await dump(back)).length).toBe(2);
    await back.close();
  }, 60_000);

  it('passphrase -> new passphrase -> raw key; the old passphrase fails with EKEY each time', async () => {
    const db = await open('r2', { directory: dir, passphrase: 'old secret', ...fastKdf });
    await db.write((tx) => tx.table('t').put('a', 'one'));
    await db.rekey({ newPassphrase: 'new secret', ...fastKdf });
    await db.rekey({ newKey: key2 }); // the handle now holds 'new secret' as its credential
    await db.close();
    await rejectsWith(open('r2', { directory: dir, passphrase: 'old secret', create: false }), ErrorCode.EKEY);
    await rejectsWith(open('r2', { directory: dir, passphrase: 'new secret', create: false }), ErrorCode.EKEY);
    const re = await open('r2', { directory: dir, key: key2, create: false });
    expect((await dump(re)).length).toBe(1);
    await re.close();
  }, 60_000);

  it('bad arguments reject with EINVAL and change nothing; an aborted signal with ECANCELED', async () => {
    const db = await open('r3', { directory: dir, key });
    await rejectsWith(db.rekey({}), ErrorCode.EINVAL);
    await rejectsWith(db.rekey({ newKey: key2, newPassphrase: 'x' }), ErrorCode.EINVAL);
    await rejectsWith(db.rekey({ newKey: key2.subarray(0, 31) }), ErrorCode.EINVAL);
    await rejectsWith(db.rekey({ newPassphrase: '' }), ErrorCode.EINVAL);
    await rejectsWith(db.rekey({ newPassphrase: 'x', pwhashOpsLimit: 1000 }), ErrorCode.EINVAL);
    await rejectsWith(db.rekey({ newKey: key2, signal: AbortSignal.abort() }), ErrorCode.ECANCELED);
    await db.close();
    const re = await open('r3', { directory: dir, key, create: false }); // still the old key
    await re.close();
  }, 60_000);
});

describe('db.exportSnapshot({ rate })', () => {
  it('hands the stream out in pieces of rate/8 bytes, paced at the rate, byte-identical to an unthrottled export', async () => {
    const db = await open('s1', { directory: dir, key });
    await db.write((tx) => {
      for (let i = 0; i < 300; i++) tx.table('t').put(`k${i}`, 'v'.padEnd(500, String(i % 10)));
    });
    const all = async (s: ReadableStream<Uint8Array>, sizes: number[]) => {
      const parts: Uint8Array[] = [];
      for (const r = s.getReader(); ;) {
        const { done, value } = await r.read();
        if (done) break;
        parts.push(value);
        sizes.push(value.length);
      }
      return Buffer.concat(parts);
    };
    const plain = await all(db.exportSnapshot(), []);
    const rate = Math.ceil(plain.length / 0.8); // about 0.8 s
    const sizes: number[] = [];
    const t0 = Date.now();
    const slow = await all(db.exportSnapshot({ rate }), sizes);
    const ms = Date.now() - t0;
    expect(Buffer.compare(slow, plain)).toBe(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(Math.floor(rate / 8));
    expect(sizes.length).toBeGreaterThanOrEqual(6); // 0.8 s in pieces of 1/8 s
    // paced: never faster than the rate allows (the last piece is due at length/rate)
    expect(ms).toBeGreaterThanOrEqual((plain.length * 1000) / rate - 20);
    await rejectsWith(all(db.exportSnapshot({ rate: -1 }), []), ErrorCode.EINVAL);
    // an abort during the throttle's waits ends the export with ECANCELED
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    await rejectsWith(all(db.exportSnapshot({ rate, signal: ac.signal }), []), ErrorCode.ECANCELED);
    await db.write((tx) => tx.table('t').put('after', 'abort')); // the snapshot was released
    await db.close();
  }, 60_000);
});
