// Values and options as plain JavaScript passes them (issue 10, defect 2): every
// ArrayBufferView and ArrayBuffer is stored by its bytes, strings as UTF-8, anything else
// is refused with PagedbError EINVAL naming the argument (and nothing is written); every
// option of every call is checked (limit 0 yields nothing, a negative limit is an error).
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, openSync, PagedbError, ErrorCode, type Database } from '../../dist/node.js';

const key = new Uint8Array(32).map((_, i) => i + 1);
let dir: string;
let db: Database;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-values-'));
  db = await open('v', { key, directory: dir });
});
afterEach(async () => {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Expect a PagedbError with `code` whose message mentions `word`, thrown or rejected. */
async function fails(f: () => unknown, code: number, word?: string): Promise<void> {
  let err: unknown;
  try {
    await f();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a PagedbError').toBeInstanceOf(PagedbError);
  expect((err as PagedbError).code).toBe(code);
  if (word) expect((err as PagedbError).message).toContain(word);
}

const get = (k: unknown) => db.read((tx) => tx.table('t').get(k as string));
const all = async (r?: unknown) => {
  const out: string[] = [];
  for await (const [k] of db.range('t', r as never)) out.push(new TextDecoder().decode(k));
  return out;
};

describe('values (defect 2)', () => {
  it('values-1: stores every ArrayBufferView and ArrayBuffer by its bytes', async () => {
    const ab = new Uint8Array([1, 2, 3, 4, 5]).buffer;
    const big = new Uint8Array(16).map((_, i) => 100 + i);
    const dv = new DataView(big.buffer, 4, 6); // bytes 104..109
    const u16 = new Uint16Array([0x0102, 0xfffe, 0x8000]);
    const f64sub = new Float64Array([1.5, -2, 3.25]).subarray(1, 3);
    const i8 = new Int8Array([-1, -128, 127]);
    const buf = Buffer.from('buffer bytes');
    const cases: [string, unknown, Uint8Array][] = [
      ['ab', ab, new Uint8Array([1, 2, 3, 4, 5])],
      ['dv', dv, big.slice(4, 10)],
      ['u16', u16, new Uint8Array(u16.buffer.slice(0))],
      ['f64sub', f64sub, new Uint8Array(f64sub.buffer, 8, 16).slice()],
      ['i8', i8, new Uint8Array([0xff, 0x80, 0x7f])],
      ['buf', buf, new Uint8Array(buf)],
      ['str', 'héllo', new TextEncoder().encode('héllo')],
      ['empty', new ArrayBuffer(0), new Uint8Array(0)],
    ];
    await db.write((tx) => {
      for (const [k, v] of cases) tx.table('t').put(k, v as Uint8Array);
    });
    for (const [k, , want] of cases) expect(await get(k), k).toEqual(want);
    expect((await get('u16'))!.length).toBe(6);
    // keys too: a DataView key finds what a Uint8Array key wrote
    await db.write((tx) => tx.table('t').put(new Uint8Array([9, 8, 7]), 'by view'));
    const kview = new DataView(new Uint8Array([0, 9, 8, 7, 0]).buffer, 1, 3);
    expect(new TextDecoder().decode(await get(kview))).toBe('by view');
  });

  it('values-2: copies a value at put, so reusing the array before the commit changes nothing', async () => {
    const v = new Uint8Array([1, 1, 1]);
    await db.write(async (tx) => {
      tx.table('t').put('k', v);
      v.fill(9);
      await Promise.resolve();
    });
    expect(await get('k')).toEqual(new Uint8Array([1, 1, 1]));
  });

  it('values-3: refuses null, undefined, booleans, numbers, arrays and objects with EINVAL naming the argument, writing nothing', async () => {
    for (const bad of [null, undefined, true, false, 0, 42, [1, 2], { a: 1 }, Symbol.iterator]) {
      await fails(() => db.write((tx) => tx.table('t').put('k', bad as never)), ErrorCode.EINVAL, 'value');
      await fails(() => db.write((tx) => tx.table('t').put(bad as never, 'v')), ErrorCode.EINVAL, 'key');
      await fails(() => db.write((tx) => tx.table('t').delete(bad as never)), ErrorCode.EINVAL, 'key');
      await fails(() => get(bad), ErrorCode.EINVAL, 'key');
    }
    // a bad put aborts the whole transaction: the good put before it is not committed
    await fails(() => db.write((tx) => {
      tx.table('t').put('good', 'x');
      tx.table('t').put('bad', null as never);
    }), ErrorCode.EINVAL, 'value');
    expect(await get('good')).toBeUndefined();
    expect(await all()).toEqual([]);
  });

  it('values-4: range limit 0 yields nothing; bad limits, bounds, flags and unknown options are EINVAL', async () => {
    await db.write((tx) => {
      for (const k of ['a', 'b', 'c', 'd']) tx.table('t').put(k, k);
    });
    expect(await all({ limit: 0 })).toEqual([]);
    expect(await all({ limit: 0, reverse: true })).toEqual([]);
    expect(await all({ limit: 2 })).toEqual(['a', 'b']);
    expect(await db.read(async (tx) => {
      const out: Uint8Array[] = [];
      for await (const [k] of tx.range('t', { limit: 0 })) out.push(k);
      return out.length;
    })).toBe(0);
    for (const limit of [-1, 1.5, '2', NaN, Infinity, null])
      await fails(() => all({ limit }), ErrorCode.EINVAL, 'range.limit');
    await fails(() => all({ reverse: 'yes' }), ErrorCode.EINVAL, 'range.reverse');
    await fails(() => all({ gte: 5 }), ErrorCode.EINVAL, 'range.gte');
    await fails(() => all({ prefix: null }), ErrorCode.EINVAL, 'range.prefix');
    await fails(() => all({ lt: true }), ErrorCode.EINVAL, 'range.lt');
    await fails(() => all({ limt: 2 }), ErrorCode.EINVAL, 'limt');
    await fails(() => all('a'), ErrorCode.EINVAL, 'range');
    expect(await all({ gte: new Uint16Array([0x62]).buffer.slice(0, 1) })).toEqual(['b', 'c', 'd']);
  });

  it('values-5: table names, callbacks, segment arguments and open options are checked', async () => {
    await fails(() => db.write((tx) => tx.table(7 as never).put('k', 'v')), ErrorCode.EINVAL, 'table name');
    await fails(() => db.read((tx) => tx.table('a\0b').get('k')), ErrorCode.EINVAL, 'table name');
    await fails(() => db.range(null as never).next(), ErrorCode.EINVAL, 'table name');
    await fails(() => db.write(null as never), ErrorCode.EINVAL, 'callback');
    await fails(() => db.read('x' as never), ErrorCode.EINVAL, 'callback');
    await fails(() => db.segments.create(-1), ErrorCode.EINVAL, 'realm');
    await fails(() => db.segments.create(1.5), ErrorCode.EINVAL, 'realm');
    const seg = await db.segments.create();
    await fails(() => seg.append(null as never), ErrorCode.EINVAL, 'bytes');
    await seg.append(new Uint16Array([0x4241]));
    expect(await seg.read(0, 2)).toEqual(new Uint8Array([0x41, 0x42]));
    await fails(() => seg.read(-1, 1), ErrorCode.EINVAL, 'offset');
    await fails(() => seg.read(0, '1' as never), ErrorCode.EINVAL, 'length');
    await fails(() => db.segments.open(seg.id, { apend: true } as never), ErrorCode.EINVAL, 'apend');
    await fails(() => db.segments.open(seg.id, { append: 1 } as never), ErrorCode.EINVAL, 'append');
    await seg.close();

    const o = { key, directory: dir };
    await fails(() => open('o1', { ...o, cacheBytes: -1 }), ErrorCode.EINVAL, 'cacheBytes');
    await fails(() => open('o2', { ...o, pageSize: '4096' as never }), ErrorCode.EINVAL, 'pageSize');
    await fails(() => open('o3', { ...o, create: 'no' as never }), ErrorCode.EINVAL, 'create');
    await fails(() => open('o4', { ...o, readonly: true } as never), ErrorCode.EINVAL, 'readonly');
    await fails(() => open('o5', { ...o, cipher: 'rot13' as never }), ErrorCode.EINVAL, 'cipher');
    await fails(() => open('o6', { ...o, passphrase: 'x' }), ErrorCode.EINVAL, 'not both');
    await fails(() => open('o7', { directory: dir, key: 'k'.repeat(32) as never }), ErrorCode.EINVAL, 'options.key');
    await fails(() => open('o8', null as never), ErrorCode.EINVAL, 'options');
    await fails(() => open('o9', { directory: dir, passphrase: 12 as never }), ErrorCode.EINVAL, 'passphrase');
    for (const n of ['o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'o8', 'o9']) expect(fs.existsSync(path.join(dir, n)), n).toBe(false);
    // a key given as an ArrayBuffer or a DataView is its bytes
    const other = await open('v2', { key: key.buffer.slice(0) as never, directory: dir });
    await other.write((tx) => tx.table('t').put('x', 'y'));
    await other.close();
    const again = await open('v2', { key: new DataView(key.buffer) as never, directory: dir });
    expect(new TextDecoder().decode(await again.read((tx) => tx.table('t').get('x')))).toBe('y');
    await again.close();
  });

  it('values-6: the synchronous API takes the same byte arguments and checks the same options', async () => {
    const s = await openSync('sync', { key, directory: dir });
    const w = s.beginWrite();
    w.put('t', new DataView(new Uint8Array([7, 7]).buffer), new Uint16Array([1, 2]));
    await fails(() => w.put('t', 'k', null as never), ErrorCode.EINVAL, 'value');
    await fails(() => w.put('t', false as never, 'v'), ErrorCode.EINVAL, 'key');
    w.commit();
    const r = s.beginRead();
    expect(r.get('t', new Uint8Array([7, 7]))).toEqual(new Uint8Array([1, 0, 2, 0]));
    expect(r.scan('t', { limit: 0 }).entries).toEqual([]);
    await fails(() => r.scan('t', { limit: -3 }), ErrorCode.EINVAL, 'range.limit');
    r.abort();
    await fails(() => s.createSegment(-2), ErrorCode.EINVAL, 'realm');
    s.close();
  });
});
