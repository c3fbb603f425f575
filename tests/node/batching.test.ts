// Request coalescing (js/src/batch.ts, wire.ts, handler.ts runBatch) end to end under Node,
// where the promise API runs the same batches in-process: calls issued in one tick travel as
// one message, each request settles only its own promise with its own PagedbError code, the
// order the API promises is kept, large values and ranges come back intact, and every
// returned array owns its buffer.
import { describe, it, expect, beforeEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, PagedbError, ErrorCode, type Database } from '../../dist/node.js';
import { Coalescer } from '../../dist/batch.js';
import { AnswerWriter, K_GET, readRequests, type WireRequests } from '../../dist/wire.js';

const key = new Uint8Array(32).map((_, i) => 100 - i);
const enc = new TextEncoder();
const dec = new TextDecoder();
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-batch-'));
});

/** Batch messages the database's endpoint has posted so far (internal counter). */
const messages = (db: Database): number => (db as unknown as { ep: { messages: number } }).ep.messages;

const k = (i: number): string => `key-${String(i).padStart(5, '0')}`;
const v = (i: number): string => `value ${i} `.repeat(1 + (i % 7));

async function filled(n: number): Promise<Database> {
  const db = await open('b', { key, directory: dir, cacheBytes: 4 << 20 });
  await db.write((tx) => {
    const t = tx.table('t');
    for (let i = 0; i < n; i += 2) t.put(k(i), v(i)); // odd keys are missing
  });
  return db;
}

function codeOf(r: PromiseSettledResult<unknown>): number | undefined {
  if (r.status !== 'rejected') return undefined;
  expect(r.reason).toBeInstanceOf(PagedbError);
  return (r.reason as PagedbError).code;
}

/** The value of a settled get: must own its whole buffer (batch.ts invariant 4). */
function owned(r: PromiseSettledResult<Uint8Array | undefined>): Uint8Array | undefined {
  expect(r.status).toBe('fulfilled');
  const val = (r as PromiseFulfilledResult<Uint8Array | undefined>).value;
  if (val) {
    expect(val.byteOffset).toBe(0);
    expect(val.buffer.byteLength).toBe(val.length);
  }
  return val;
}

describe('request coalescing (node)', () => {
  it('batch-1: 1,000 concurrent gets, missing keys and bad arguments reject only their own call', async () => {
    const db = await filled(1000);
    const before = messages(db);
    const results = await db.read((tx) => {
      const t = tx.table('t');
      const calls: Promise<Uint8Array | undefined>[] = [];
      for (let i = 0; i < 1000; i++) {
        if (i === 500) calls.push(t.get(new Uint8Array(5000))); // longer than the largest key: ETOOBIG in the engine
        else if (i === 700) calls.push(t.get(42 as unknown as string)); // not bytes: EINVAL before sending
        else calls.push(t.get(k(i)));
      }
      return Promise.allSettled(calls);
    });
    const sent = messages(db) - before;
    // begin + 1,000 gets in ceil(1001 / 256) = 4 messages, the snapshot's end in one more
    expect(sent).toBeGreaterThanOrEqual(4);
    expect(sent).toBeLessThanOrEqual(6);
    results.forEach((r, i) => {
      if (i === 500) expect(codeOf(r)).toBe(ErrorCode.ETOOBIG);
      else if (i === 700) expect(codeOf(r)).toBe(ErrorCode.EINVAL);
      else if (i % 2) expect(owned(r as PromiseSettledResult<Uint8Array | undefined>)).toBeUndefined();
      else expect(dec.decode(owned(r as PromiseSettledResult<Uint8Array | undefined>))).toBe(v(i));
    });
    // the same in many one-get read transactions issued at once
    const one = await Promise.allSettled(
      Array.from({ length: 300 }, (_, i) => db.read((tx) => tx.table(i === 123 ? 'no-such-table' : 't').get(k(i)))),
    );
    one.forEach((r, i) => {
      const val = owned(r);
      if (i % 2 || i === 123) expect(val).toBeUndefined();
      else expect(dec.decode(val)).toBe(v(i));
    });
    await db.close();
  });

  it('batch-2: a key changed right after get() was called is read as it was at the call', async () => {
    const db = await filled(10);
    const got = await db.read((tx) => {
      const t = tx.table('t');
      const buf = enc.encode(k(2));
      const a = t.get(buf);
      buf.set(enc.encode(k(4))); // reused by the caller before the batch is posted
      const b = t.get(buf);
      return Promise.all([a, b]);
    });
    expect(got.map((x) => dec.decode(x))).toEqual([v(2), v(4)]);
    await db.close();
  });

  it('batch-3: writes and reads interleaved in one tick keep read-your-own-writes and write order', async () => {
    const db = await filled(10);
    // inside one write: every get sees exactly the writes issued before it
    const seen = await db.write((tx) => {
      const t = tx.table('t');
      t.put('x', '1');
      const p1 = t.get('x');
      t.put('x', '2');
      const p2 = t.get('x');
      t.delete('x');
      const p3 = t.get('x');
      t.put('x', '3');
      const p4 = t.get(k(0));
      return Promise.all([p1, p2, p3, p4]);
    });
    expect(seen.map((x) => (x ? dec.decode(x) : undefined))).toEqual(['1', '2', undefined, v(0)]);
    expect(dec.decode(await db.read((tx) => tx.table('t').get('x')))).toBe('3');

    // writes issued without awaiting run one after another in call order
    const w = [];
    for (let i = 0; i < 20; i++) w.push(db.write((tx) => tx.table('t').put('counter', String(i))));
    await Promise.all(w);
    expect(dec.decode(await db.read((tx) => tx.table('t').get('counter')))).toBe('19');

    // a read snapshot taken before a write keeps its view; a read after it sees the write
    const r = await db.read(async (tx) => {
      const t = tx.table('t');
      const before = await t.get('counter');
      await db.write((wx) => wx.table('t').put('counter', 'changed'));
      const after = await t.get('counter');
      return [before, after].map((x) => dec.decode(x));
    });
    expect(r).toEqual(['19', '19']);
    expect(dec.decode(await db.read((tx) => tx.table('t').get('counter')))).toBe('changed');

    // a failing get inside a write rejects that get; the write (its transaction aborted by
    // the engine error) then rejects and nothing of it is committed
    await expect(
      db.write(async (tx) => {
        const t = tx.table('t');
        t.put('never', 'committed');
        const [bad, good] = await Promise.allSettled([t.get(new Uint8Array(5000)), t.get(k(2))]);
        expect(codeOf(bad)).toBe(ErrorCode.ETOOBIG);
        expect(good.status).toBe('rejected'); // the transaction is over after the engine error
      }),
    ).rejects.toBeInstanceOf(PagedbError);
    expect(await db.read((tx) => tx.table('t').get('never'))).toBeUndefined();
    await db.close();
  });

  it('batch-4: large values (around the packing threshold and beyond a message) in one batch', async () => {
    const db = await open('big', { key, directory: dir, cacheBytes: 8 << 20 });
    const sizes = [0, 1, 4000, 65535, 65536, 65537, 300_000, 1 << 20, 3 << 20];
    const val = (n: number, seed: number): Uint8Array => {
      const a = new Uint8Array(n);
      for (let j = 0; j < n; j++) a[j] = (j * 31 + seed) & 255;
      return a;
    };
    const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => !!a && a.length === b.length && a.every((x, j) => x === b[j]);
    await db.write((tx) => {
      const t = tx.table('big');
      sizes.forEach((n, i) => t.put(`v${i}`, val(n, i)));
      for (let i = 0; i < 200; i++) t.put(`s${i}`, val(100, i));
    });
    const got = await db.read((tx) => {
      const t = tx.table('big');
      const calls: Promise<Uint8Array | undefined>[] = [];
      for (let i = 0; i < 200; i++) {
        calls.push(t.get(`s${i}`));
        if (i < sizes.length) calls.push(t.get(`v${i}`));
      }
      return Promise.allSettled(calls);
    });
    let c = 0;
    for (let i = 0; i < 200; i++) {
      expect(same(owned(got[c++]), val(100, i))).toBe(true);
      if (i < sizes.length) expect(same(owned(got[c++]), val(sizes[i], i)), `v${i}: ${sizes[i]} bytes`).toBe(true);
    }
    await db.close();
  });

  it('batch-5: many concurrent ranges, with every option, match the sorted keys', async () => {
    const n = 2000;
    const db = await filled(n);
    const present = Array.from({ length: n / 2 }, (_, j) => k(2 * j)); // already in key order
    type Case = { r: Parameters<Database['range']>[1]; want: string[] };
    const cases: Case[] = [];
    for (let s = 0; s < n; s += 37) {
      const from = k(s);
      const at = present.findIndex((x) => x >= from);
      cases.push({ r: { gte: from, limit: 10 }, want: present.slice(at, at + 10) });
      cases.push({ r: { lt: from, reverse: true, limit: 3 }, want: present.slice(Math.max(0, at - 3), at).reverse() });
    }
    cases.push({ r: { prefix: 'key-001' }, want: present.filter((x) => x.startsWith('key-001')) });
    cases.push({ r: { gte: k(100), lt: k(900) }, want: present.filter((x) => x >= k(100) && x < k(900)) }); // > 256: several batches
    cases.push({ r: {}, want: present });
    cases.push({ r: { prefix: 'nothing' }, want: [] });
    const collect = async (it: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<string[]> => {
      const out: string[] = [];
      for await (const [kk, vv] of it) {
        expect(vv.buffer.byteLength).toBe(vv.length);
        expect(dec.decode(vv)).toBe(v(Number(dec.decode(kk).slice(4))));
        out.push(dec.decode(kk));
      }
      return out;
    };
    // on one snapshot, all at once, plus gets in the same batches
    const [lists, gets] = await db.read((tx) =>
      Promise.all([
        Promise.all(cases.map((c) => collect(tx.range('t', c.r)))),
        Promise.all(Array.from({ length: 50 }, (_, i) => tx.table('t').get(k(i)))),
      ]),
    );
    lists.forEach((l, i) => expect(l).toEqual(cases[i].want));
    gets.forEach((g, i) => expect(g === undefined ? undefined : dec.decode(g)).toBe(i % 2 ? undefined : v(i)));
    // each on its own snapshot (db.range), all at once
    const own = await Promise.all(cases.map((c) => collect(db.range('t', c.r))));
    own.forEach((l, i) => expect(l).toEqual(cases[i].want));
    // a bad bound rejects only its own range
    const settled = await Promise.allSettled([
      collect(db.range('t', { gte: 7 as unknown as string })),
      collect(db.range('t', { gte: k(10), limit: 2 })),
    ]);
    expect(codeOf(settled[0])).toBe(ErrorCode.EINVAL);
    expect(settled[1]).toEqual({ status: 'fulfilled', value: [k(10), k(12)] });
    await db.close();
  });

  it('batch-6: calls after close reject with EMISUSE, calls queued before close still run', async () => {
    const db = await filled(10);
    const p = db.read((tx) => tx.table('t').get(k(4)));
    const closing = db.close();
    expect(dec.decode(await p)).toBe(v(4));
    await closing;
    await expect(db.read((tx) => tx.table('t').get(k(4)))).rejects.toMatchObject({ code: ErrorCode.EMISUSE });
  });

  it('batch-7: an argument that cannot be cloned fails only its own call (the batch is re-sent request by request)', async () => {
    // a stand-in worker: structuredClone like postMessage, gets answered with their key
    const posted: number[] = [];
    const ep: Coalescer = new Coalescer((msg: WireRequests, transfer: ArrayBuffer[]) => {
      const m = structuredClone(msg, { transfer });
      posted.push(m.kinds.length);
      const out = new AnswerWriter();
      out.first = m.first;
      for (const r of readRequests(m)) {
        if (r.kind === K_GET) out.value(r.key);
        else out.obj(r.op, { echo: r.op });
      }
      queueMicrotask(() => ep.receive(out.take().msg));
    });
    const keyBuf = enc.encode('first');
    const calls = [
      ep.call('get', { txn: 1, table: 't', key: keyBuf, ops: [] }),
      ep.call('stat', { notCloneable: () => 1 } as never),
      ep.call('get', { txn: 1, table: 't', key: enc.encode('second'), ops: [] }),
      ep.call('verify', {}),
    ];
    keyBuf.set(enc.encode('FIRST')); // changed after the call: the answer must not see it
    const r = await Promise.allSettled(calls);
    expect(posted).toEqual([1, 1, 1]); // the batch of 4 failed to clone; 3 re-sent one by one
    expect(dec.decode((r[0] as PromiseFulfilledResult<{ value: Uint8Array }>).value.value)).toBe('first');
    expect(codeOf(r[1])).toBe(ErrorCode.EINVAL);
    expect(dec.decode((r[2] as PromiseFulfilledResult<{ value: Uint8Array }>).value.value)).toBe('second');
    expect(r[3]).toEqual({ status: 'fulfilled', value: { echo: 'verify' } });
    expect(ep.messages).toBe(3);
  });
});
