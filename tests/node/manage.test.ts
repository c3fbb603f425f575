// Everyday API under Node on real files: deleteDatabase/listDatabases, db.tables(),
// dropTable, table.clear/count, value codecs, and db.iterate (chunked, one snapshot held
// for the loop and ended on break/return/throw).
import { describe, it, expect, beforeEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, openSync, deleteDatabase, listDatabases, keys, PagedbError, ErrorCode, Database } from '../../dist/node.js';
import { rejectsWith } from './util';
import { Handler } from '../../dist/handler.js';
import { Coalescer } from '../../dist/batch.js';
import { NodeBackend } from '../../dist/node_backend.js';
import createModule from '../../dist/pagedb.node.mjs';

const key = new Uint8Array(32).map((_, i) => i + 7);
const enc = new TextEncoder();
const dec = new TextDecoder();
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-manage-'));
});

const pad = (i: number) => String(i).padStart(5, '0');

describe('database management (node)', () => {
  it('listDatabases and deleteDatabase: only pagedb directories, never an open one', async () => {
    expect(await listDatabases({ directory: dir })).toEqual([]);
    const a = await open('alpha', { key, directory: dir });
    await a.write((tx) => tx.table('t').put('k', 'v'));
    const b = await open('beta', { key, directory: dir });
    await b.segments.create().then(async (s) => {
      await s.append('segment bytes');
      await s.seal();
      await b.write((tx) => tx.segments.link(s.id));
      await s.close();
    });
    await b.close();
    fs.mkdirSync(path.join(dir, 'not-a-db'));
    fs.writeFileSync(path.join(dir, 'not-a-db', 'precious.txt'), 'keep me');
    expect(await listDatabases({ directory: dir })).toEqual(['alpha', 'beta']);

    // open in this process: EBUSY, and nothing is deleted
    await rejectsWith(deleteDatabase('alpha', { directory: dir }), ErrorCode.EBUSY);
    expect(dec.decode(await a.read((tx) => tx.table('t').get('k')))).toBe('v');
    await a.close();
    const main = fs.readFileSync(path.join(dir, 'alpha', 'main.pdb'));
    expect(main.length).toBeGreaterThan(0);

    // a directory that is not a database is refused and left alone
    await rejectsWith(deleteDatabase('not-a-db', { directory: dir }), ErrorCode.ENOTDB);
    expect(fs.readFileSync(path.join(dir, 'not-a-db', 'precious.txt'), 'utf8')).toBe('keep me');
    await rejectsWith(deleteDatabase('', { directory: dir }), ErrorCode.EINVAL);

    expect(fs.readdirSync(path.join(dir, 'beta')).some((n) => n.endsWith('.pds'))).toBe(true);
    expect(await deleteDatabase('beta', { directory: dir })).toBe(true);
    expect(fs.existsSync(path.join(dir, 'beta'))).toBe(false);
    expect(await deleteDatabase('beta', { directory: dir })).toBe(false);
    expect(await listDatabases({ directory: dir })).toEqual(['alpha']);
    expect(await deleteDatabase('alpha', { directory: dir })).toBe(true);
    expect(await listDatabases({ directory: dir })).toEqual([]);
    // gone for real: opening without create finds nothing
    await rejectsWith(open('alpha', { key, directory: dir, create: false }), ErrorCode.ENOTFOUND);
  });

  it('tables() lists entries, pages and bytes; dropTable and clear free and empty', async () => {
    const db = await open('m', { key, directory: dir });
    expect(await db.tables()).toEqual([]);
    await db.write((tx) => {
      const a = tx.table('a'), b = tx.table('b');
      for (let i = 0; i < 3000; i++) a.put(`k${pad(i)}`, new Uint8Array(100).fill(i & 255));
      for (let i = 0; i < 10; i++) b.put(`k${i}`, 'x');
    });
    const list = await db.tables();
    expect(list.map((t) => t.name)).toEqual(['a', 'b']);
    const [ta, tb] = list;
    expect(ta.entries).toBe(3000);
    expect(tb.entries).toBe(10);
    expect(ta.pages).toBeGreaterThan(50); // ~3000 x 110 bytes in 4 KiB pages
    expect(ta.depth).toBeGreaterThanOrEqual(2);
    expect(tb.pages).toBe(1);
    expect(tb.depth).toBe(1);
    expect(ta.bytes).toBe(ta.pages * 4096);
    expect(ta.realm).toBe(0);

    const t = db.table('a');
    expect(await t.count()).toBe(3000);
    expect(await t.count({ prefix: 'k001' })).toBe(100);
    expect(await t.count({ gte: 'k00100', lt: 'k00250' })).toBe(150);
    expect(await t.count({ prefix: 'k001', limit: 7 })).toBe(7);
    expect(await t.count({ limit: 5 })).toBe(5);
    expect(await db.table('nosuch').count()).toBe(0);
    // count inside a write sees the transaction's own writes
    expect(await db.write(async (tx) => {
      tx.table('b').put('k99', 'y');
      tx.table('b').delete('k0');
      return [await tx.table('b').count(), await tx.table('b').count({ prefix: 'k9' })];
    })).toEqual([10, 2]);

    const free0 = (await db.stat()).freePages;
    await db.table('b').clear();
    expect(await db.table('b').count()).toBe(0);
    expect((await db.tables()).map((x) => [x.name, x.entries])).toEqual([['a', 3000], ['b', 0]]);
    expect(await db.read((tx) => tx.table('b').get('k1'))).toBeUndefined();

    expect(await db.dropTable('a')).toBe(true);
    expect(await db.dropTable('a')).toBe(false);
    expect((await db.tables()).map((x) => x.name)).toEqual(['b']);
    expect((await db.stat()).freePages).toBeGreaterThan(free0 + 50); // a's pages were freed
    expect(await db.read((tx) => tx.table('a').get('k00001'))).toBeUndefined();
    // drop and recreate in one transaction: a fresh, empty table
    await db.write((tx) => tx.table('b').put('again', '1'));
    await db.write((tx) => {
      tx.dropTable('b');
      tx.table('b').put('new', '2');
    });
    expect(await db.table('b').count()).toBe(1);
    // read transactions cannot drop or clear
    await rejectsWith(db.read((tx) => (tx as any).dropTable('b')), ErrorCode.EMISUSE);
    await rejectsWith(db.read((tx) => (tx.table('b') as any).clear()), ErrorCode.EMISUSE);
    expect(await db.verify()).toBeGreaterThan(0);
    await db.close();

    // survives reopen
    const again = await open('m', { key, directory: dir });
    expect((await again.tables()).map((x) => [x.name, x.entries])).toEqual([['b', 1]]);
    await again.close();
  });

  it('codecs: json, utf8, bytes and custom, in and out of transactions', async () => {
    const db = await open('c', { key, directory: dir });
    interface Note { title: string; tags: string[]; n: number }
    const notes = db.table<Note>('notes', { codec: 'json' });
    await notes.put('n1', { title: 'hello', tags: ['a'], n: 1 });
    expect(await notes.get('n1')).toEqual({ title: 'hello', tags: ['a'], n: 1 });
    expect(await notes.get('absent')).toBeUndefined();
    // stored as UTF-8 JSON: the raw bytes prove it
    expect(dec.decode(await db.read((tx) => tx.table('notes').get('n1')))).toBe('{"title":"hello","tags":["a"],"n":1}');
    await db.write((tx) => {
      const t = tx.table(notes);
      t.put('n2', { title: 'two', tags: [], n: 2 });
      t.delete('n1');
    });
    const all: [string, Note][] = [];
    for await (const [k, v] of db.iterate(notes)) all.push([dec.decode(k), v]);
    expect(all).toEqual([['n2', { title: 'two', tags: [], n: 2 }]]);
    // a value JSON cannot hold is refused and the write is aborted: nothing stored
    await rejectsWith(notes.put('bad', undefined as unknown as Note), ErrorCode.EINVAL);
    const cyc: any = {};
    cyc.self = cyc;
    await rejectsWith(db.write((tx) => {
      tx.table(notes).put('ok', { title: 'x', tags: [], n: 0 });
      tx.table(notes).put('cyc', cyc);
    }), ErrorCode.EINVAL);
    expect(await notes.get('ok')).toBeUndefined();

    const text = db.table('text', { codec: 'utf8' });
    await text.put('k', 'héllo ✓');
    expect(await text.get('k')).toBe('héllo ✓');
    await rejectsWith(text.put('k', 42 as unknown as string), ErrorCode.EINVAL);
    // a stored value that is not UTF-8 is reported, not mangled
    await db.write((tx) => tx.table('text').put('raw', new Uint8Array([0xff, 0xfe])));
    await rejectsWith(text.get('raw'), ErrorCode.EINVAL);

    const bytes = db.table('bin');
    await bytes.put('a', new Uint16Array([1, 0x203]));
    expect([...(await bytes.get('a'))!]).toEqual([1, 0, 3, 2]);
    await bytes.put('b', new Uint8Array([9, 8]).buffer);
    expect([...(await bytes.get('b'))!]).toEqual([9, 8]);

    // custom codec: a float64 array
    const f64 = db.table('floats', {
      codec: {
        encode: (v: number[]) => new Uint8Array(new Float64Array(v).buffer),
        decode: (b: Uint8Array) => [...new Float64Array(b.slice().buffer)],
      },
    });
    await f64.put('x', [1.5, -2, Math.PI]);
    expect(await f64.get('x')).toEqual([1.5, -2, Math.PI]);
    expect(() => db.table('t', { codec: 'yaml' as any })).toThrow(PagedbError);
    const badCodec = db.table('t2', { codec: { encode: () => 'no' as any, decode: (b: Uint8Array) => b } });
    await rejectsWith(badCodec.put('k', 1), ErrorCode.EINVAL);
    await db.close();
  });
});

/** A Database over an in-process handler whose ops are recorded (begin/abort/scan...). */
async function recorded(name: string): Promise<{ db: Database; log: [string, unknown][] }> {
  const m = await createModule({ wasmBinary: fs.readFileSync(new URL('../../dist/pagedb.wasm', import.meta.url)) });
  m.pagedbVfs = new NodeBackend(dir);
  const h = new Handler(m);
  const log: [string, unknown][] = [];
  let chain: Promise<void> = Promise.resolve();
  const ep: Coalescer = new Coalescer((msg) => {
    for (const o of msg.objs) log.push([o.op, o.args]);
    for (const k of msg.kinds) if (k === 2) log.push(['scan', null]);
    chain = chain.then(() => h.runBatch(msg, (r) => ep.receive(r.msg)));
  });
  await ep.call('open', { name, options: { key } });
  return { db: new Database(ep), log };
}

describe('db.iterate (node)', () => {
  it('reads in chunks on one snapshot while writes commit, and ends the snapshot on break and throw', async () => {
    const { db, log } = await recorded('it');
    const N = 2000;
    await db.write((tx) => {
      for (let i = 0; i < N; i++) tx.table('t').put(`k${pad(i)}`, `v${i}`);
    });
    const seen: string[] = [];
    let wrote = false;
    for await (const [k, v] of db.iterate('t')) {
      seen.push(`${dec.decode(k)}=${dec.decode(v)}`);
      if (seen.length === 10 && !wrote) {
        // committed while the loop runs: delete everything, add keys in the middle
        await db.write((tx) => {
          for (let i = 0; i < N; i++) tx.table('t').delete(`k${pad(i)}`);
          tx.table('t').put('k00500x', 'new');
        });
        wrote = true;
        expect(await db.table('t').count()).toBe(1);
      }
    }
    expect(seen.length).toBe(N);
    expect(seen[0]).toBe('k00000=v0');
    expect(seen[N - 1]).toBe(`k${pad(N - 1)}=v${N - 1}`);
    // several chunks, each requested as the loop consumed the previous one
    const scans = log.filter(([op]) => op === 'scan').length;
    expect(scans).toBeGreaterThanOrEqual(Math.ceil(N / 256));

    const begins = () => log.filter(([op, a]) => op === 'begin' && !(a as any).write).map(([, a]) => (a as any).txn);
    const aborts = () => log.filter(([op]) => op === 'abort').map(([, a]) => (a as any).txn);
    await db.write((tx) => {
      for (let i = 0; i < N; i++) tx.table('t').put(`k${pad(i)}`, `v${i}`);
    });
    // break: the snapshot ends
    let n = 0;
    for await (const _ of db.iterate('t', { prefix: 'k0' })) if (++n === 300) break;
    await new Promise((r) => setTimeout(r, 10));
    let b = begins();
    expect(aborts()).toContain(b[b.length - 1]);
    // throw: the snapshot ends and the error comes out
    await expect((async () => {
      for await (const _ of db.iterate('t')) throw new Error('boom');
    })()).rejects.toThrow('boom');
    await new Promise((r) => setTimeout(r, 10));
    b = begins();
    expect(aborts()).toContain(b[b.length - 1]);
    // every read snapshot begun has ended
    for (const t of begins()) expect(aborts()).toContain(t);

    // values decoded with the table's codec; keys with the tuple layer
    const byTime = db.table<{ at: number }>('events', { codec: 'json' });
    await db.write((tx) => {
      for (const at of [30, -5, 1000, 2.5, 0]) tx.table(byTime).put(keys.pack(['inbox', at]), { at });
      tx.table(byTime).put(keys.pack(['spam', 1]), { at: 1 });
    });
    const order: number[] = [];
    for await (const [k, v] of byTime.iterate({ prefix: keys.pack(['inbox']) })) {
      expect(keys.unpack(k)).toEqual(['inbox', v.at]);
      order.push(v.at);
    }
    expect(order).toEqual([-5, 0, 2.5, 30, 1000]);
    await db.close();
  });

  it('openSync tables and counts', async () => {
    const db = await openSync('s', { key, directory: dir });
    const w = db.beginWrite();
    for (let i = 0; i < 100; i++) w.put('t', `k${pad(i)}`, 'v');
    w.commit();
    const r = db.beginRead();
    expect(r.tableList().map((t) => [t.name, t.entries])).toEqual([['t', 100]]);
    expect(r.count('t', { prefix: 'k0001' })).toBe(10);
    r.commit();
    db.close();
  });
});

describe('keys (order-preserving encodings)', () => {
  const cmp = keys.compare;
  it('float64 and int64 sort bytewise as numbers', () => {
    const xs = [-Infinity, -1e308, -2.5, -1, -Number.MIN_VALUE, -0, 0, Number.MIN_VALUE, 1, 2.5, 1e308, Infinity, NaN];
    for (let i = 0; i + 1 < xs.length; i++) expect(cmp(keys.float64(xs[i]), keys.float64(xs[i + 1]))).toBeLessThan(0);
    for (const x of xs) expect(Object.is(keys.readFloat64(keys.float64(x)), x)).toBe(true);
    const is = [-(2n ** 63n), -(2n ** 32n), -1n, 0n, 1n, 255n, 256n, 2n ** 53n, 2n ** 63n - 1n];
    for (let i = 0; i + 1 < is.length; i++) expect(cmp(keys.int64(is[i]), keys.int64(is[i + 1]))).toBeLessThan(0);
    for (const v of is) expect(keys.readInt64(keys.int64(v))).toBe(v);
    expect(keys.readInt64(keys.int64(-42))).toBe(-42n);
    expect(() => keys.int64(2n ** 63n)).toThrow(PagedbError);
    expect(() => keys.int64(1.5)).toThrow(PagedbError);
    expect(cmp(keys.uint32(9), keys.uint32(10))).toBeLessThan(0);
    expect(keys.readUint32(keys.uint32(0xfffffffe))).toBe(0xfffffffe);
    expect(() => keys.uint32(-1)).toThrow(PagedbError);
  });

  it('pack/unpack round-trips and sorts tuples element by element', () => {
    const tuples: any[] = [
      [], [null], [new Uint8Array([0])], [new Uint8Array([0, 0])], [new Uint8Array([1])], [''], ['a'], ['a', null], ['a', 'b'],
      ['a\u0000b'], ['ab'], ['b'], [[]], [[null]], [['a']], [-(2n ** 64n) + 1n], [-256n], [-255n], [-1n], [0n], [1n], [255n], [256n],
      [2n ** 64n - 1n], [-Infinity], [-1.5], [0], [1.5], [Infinity], [false], [true],
    ];
    const packed = tuples.map((t) => keys.pack(t));
    for (let i = 0; i + 1 < packed.length; i++) {
      expect(cmp(packed[i], packed[i + 1]), `${i}: ${String(tuples[i])} < ${String(tuples[i + 1])}`).toBeLessThan(0);
    }
    for (let i = 0; i < tuples.length; i++) expect(keys.unpack(packed[i])).toEqual(tuples[i]);
    // nested tuples with nulls and embedded zero bytes survive
    const t = ['x', [null, 'y\u0000', [1n, new Uint8Array([0, 255, 0])]], 3.25, true];
    expect(keys.unpack(keys.pack(t))).toEqual(t);
    // FoundationDB tuple layer bytes for the types both have
    expect([...keys.pack(['foo\u0000bar'])]).toEqual([0x02, 0x66, 0x6f, 0x6f, 0x00, 0xff, 0x62, 0x61, 0x72, 0x00]);
    expect([...keys.pack([-5551212n])]).toEqual([0x11, 0xab, 0x4b, 0x93]);
    expect([...keys.pack([[null, 'x']])]).toEqual([0x05, 0x00, 0xff, 0x02, 0x78, 0x00, 0x00]);
    // a packed tuple is a prefix of every longer tuple it starts
    const head = keys.pack(['inbox']);
    expect(keys.pack(['inbox', 1]).subarray(0, head.length)).toEqual(head);
    expect(keys.pack(['inboxes']).subarray(0, head.length)).not.toEqual(head);
    // bad input: typed errors
    expect(() => keys.pack([undefined as any])).toThrow(PagedbError);
    expect(() => keys.pack([{} as any])).toThrow(PagedbError);
    expect(() => keys.pack([2n ** 64n])).toThrow(PagedbError);
    expect(() => keys.unpack(new Uint8Array([0x02, 0x61]))).toThrow(PagedbError);
    expect(() => keys.unpack(new Uint8Array([0x99]))).toThrow(PagedbError);
    expect(() => keys.unpack(new Uint8Array([0x21, 1, 2]))).toThrow(PagedbError);
  });

  it('random tuples: bytewise order of pack equals tuple order', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const elem = (): any => {
      const r = rnd();
      if (r < 0.3) return BigInt(Math.floor((rnd() - 0.5) * 2 ** 40));
      if (r < 0.6) return (rnd() - 0.5) * 1e6;
      return String.fromCharCode(...Array.from({ length: Math.floor(rnd() * 4) }, () => Math.floor(rnd() * 3)));
    };
    const rank = (v: any) => (typeof v === 'string' ? 0 : typeof v === 'bigint' ? 1 : 2);
    const cmpElem = (a: any, b: any) => (rank(a) !== rank(b) ? rank(a) - rank(b) : a < b ? -1 : a > b ? 1 : 0);
    const cmpTuple = (a: any[], b: any[]) => {
      for (let i = 0; i < Math.min(a.length, b.length); i++) {
        const c = cmpElem(a[i], b[i]);
        if (c) return c;
      }
      return a.length - b.length;
    };
    for (let i = 0; i < 3000; i++) {
      const a = Array.from({ length: 1 + Math.floor(rnd() * 3) }, elem), b = Array.from({ length: 1 + Math.floor(rnd() * 3) }, elem);
      expect(Math.sign(cmp(keys.pack(a), keys.pack(b))), `${String(a)} vs ${String(b)}`).toBe(Math.sign(cmpTuple(a, b)));
    }
  });
});
