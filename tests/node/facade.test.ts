// The TypeScript facade end to end under Node, on real files: open, write, read, range,
// abort on throw, reopen, wrong key, misuse — each failure a PagedbError with the C code.
import { describe, it, expect, beforeEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, openSync, PagedbError, ErrorCode } from '../../dist/node.js';
import { rejectsWith } from './util';

const key = new Uint8Array(32).map((_, i) => i + 1);
const dec = new TextDecoder();
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-vitest-'));
});

describe('pagedb (node)', () => {
  it('writes, reads, ranges, and survives reopen', async () => {
    const db = await open('notes', { key, directory: dir, cacheBytes: 1 << 20 });
    await db.write((tx) => {
      const t = tx.table('notes');
      for (let i = 0; i < 1000; i++) t.put(`k${String(i).padStart(4, '0')}`, `value ${i}`);
      t.put('big', new Uint8Array(100_000).fill(7));
    });
    expect(dec.decode(await db.read((tx) => tx.table('notes').get('k0042')))).toBe('value 42');
    expect(await db.read((tx) => tx.table('notes').get('absent'))).toBeUndefined();
    expect(await db.read((tx) => tx.table('nosuch').get('k'))).toBeUndefined();
    const big = await db.read((tx) => tx.table('notes').get('big'));
    expect(big?.length).toBe(100_000);
    expect(big?.every((b) => b === 7)).toBe(true);

    const keys: string[] = [];
    for await (const [k] of db.range('notes', { gte: 'k0100', lt: 'k0400' })) keys.push(dec.decode(k));
    expect(keys.length).toBe(300);
    expect(keys[0]).toBe('k0100');
    expect(keys[299]).toBe('k0399');
    const rev: string[] = [];
    for await (const [k] of db.range('notes', { prefix: 'k09', reverse: true, limit: 5 })) rev.push(dec.decode(k));
    expect(rev).toEqual(['k0999', 'k0998', 'k0997', 'k0996', 'k0995']);
    const stats = await db.stat();
    expect(stats.tables).toBe(1);
    expect(stats.cacheHits).toBeGreaterThan(0);
    expect(await db.verify()).toBeGreaterThan(2);
    await db.close();

    const again = await open('notes', { key, directory: dir });
    expect(dec.decode(await again.read((tx) => tx.table('notes').get('k0999')))).toBe('value 999');
    let n = 0;
    for await (const _ of again.range('notes', {})) n++;
    expect(n).toBe(1001);
    await again.close();
  });

  it('aborts a write whose callback throws, and reads see own writes', async () => {
    const db = await open('abort', { key, directory: dir });
    await db.write((tx) => tx.table('t').put('a', '1'));
    await expect(
      db.write(async (tx) => {
        const t = tx.table('t');
        t.put('a', '2');
        t.put('b', '3');
        expect(dec.decode(await t.get('a'))).toBe('2'); // read-your-own-writes
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(dec.decode(await db.read((tx) => tx.table('t').get('a')))).toBe('1');
    expect(await db.read((tx) => tx.table('t').get('b'))).toBeUndefined();
    await db.write(async (tx) => {
      const t = tx.table('t');
      t.delete('a');
      expect(await t.get('a')).toBeUndefined();
    });
    expect(await db.read((tx) => tx.table('t').get('a'))).toBeUndefined();
    await db.close();
  });

  it('rejects a wrong key and a wrong passphrase with EKEY, and keeps the data', async () => {
    const db = await open('k', { key, directory: dir });
    await db.write((tx) => tx.table('t').put('x', 'y'));
    await db.close();
    const wrong = new Uint8Array(32).fill(9);
    const e = await rejectsWith(open('k', { key: wrong, directory: dir }), ErrorCode.EKEY);
    expect(e.message).toMatch(/PAGEDB_EKEY/);
    const ok = await open('k', { key, directory: dir });
    expect(dec.decode(await ok.read((tx) => tx.table('t').get('x')))).toBe('y');
    await ok.close();

    const opts = { directory: dir, pwhashOpsLimit: 1, pwhashMemLimit: 8192 };
    const p = await open('pp', { ...opts, passphrase: 'correct horse' });
    await p.write((tx) => tx.table('t').put('x', 'z'));
    await p.close();
    await rejectsWith(open('pp', { ...opts, passphrase: 'wrong horse' }), ErrorCode.EKEY);
    const p2 = await open('pp', { ...opts, passphrase: 'correct horse' });
    expect(dec.decode(await p2.read((tx) => tx.table('t').get('x')))).toBe('z');
    await p2.close();
  });

  it('gives typed errors for bad input and misuse', async () => {
    await rejectsWith(open('nokey', { directory: dir }), ErrorCode.EINVAL);
    await rejectsWith(open('bad', { key: new Uint8Array(5), directory: dir }), ErrorCode.EINVAL);
    await rejectsWith(open('missing', { key, directory: dir, create: false }), ErrorCode.ENOTFOUND);
    await rejectsWith(open('ps', { key, directory: dir, pageSize: 1000 }), ErrorCode.EINVAL);
    await rejectsWith(open('det', { key, directory: dir, testSeed: new Uint8Array(32) }), ErrorCode.EINVAL);
    const db = await open('busy', { key, directory: dir });
    await rejectsWith(open('busy', { key, directory: dir }), ErrorCode.EBUSY);
    await rejectsWith(db.write((tx) => tx.table('t').put(new Uint8Array(5000), 'v')), ErrorCode.ETOOBIG);
    await expect(db.read(async (tx) => (tx.table('t') as any).put('a', 'b'))).rejects.toBeInstanceOf(PagedbError);
    await db.close();
    await rejectsWith(db.stat(), ErrorCode.EMISUSE);
  });

  it('opens a non-database file with ENOTDB', async () => {
    fs.mkdirSync(path.join(dir, 'junk'));
    fs.writeFileSync(path.join(dir, 'junk', 'main.pdb'), Buffer.alloc(9000, 0x41));
    await rejectsWith(open('junk', { key, directory: dir }), ErrorCode.ENOTDB);
  });

  it('offers the synchronous API in-thread', async () => {
    const db = await openSync('sync', { key, directory: dir });
    const w = db.beginWrite();
    w.put('t', 'a', 'b');
    w.commit();
    const r = db.beginRead();
    expect(dec.decode(r.get('t', 'a'))).toBe('b');
    r.abort();
    db.close();
  });
});
