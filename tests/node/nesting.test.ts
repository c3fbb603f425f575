// A db.write inside a db.write (issue 10, defect 3): it used to wait for the outer write
// while the outer write waited for it — both hung, and close() hung behind them. Now the
// nested call rejects at once with EMISUSE (under Node anywhere in the callback's async
// continuation), and close() always settles. Every await here is raced against a timer,
// so a hang fails the test instead of stalling the suite.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, PagedbError, ErrorCode, type Database } from '../../dist/node.js';

const key = new Uint8Array(32).map((_, i) => i ^ 0x5a);
const dec = new TextDecoder();
let dir: string;
let db: Database;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-nest-'));
  db = await open('n', { key, directory: dir });
});
afterEach(async () => {
  await settles(db.close(), 'close in afterEach');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** p's outcome, or a test failure if it has not settled within ms. */
async function settles<T>(p: Promise<T>, what: string, ms = 5000): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p.then((value) => ({ ok: true as const, value }), (error) => ({ ok: false as const, error })), hang]);
  } finally {
    clearTimeout(timer);
  }
}

function isMisuse(r: { ok: boolean; error?: unknown }, word: string): void {
  expect(r.ok).toBe(false);
  expect(r.error).toBeInstanceOf(PagedbError);
  expect((r.error as PagedbError).code).toBe(ErrorCode.EMISUSE);
  expect((r.error as PagedbError).message).toContain(word);
}

const get = async (k: string) => {
  const v = await db.read((tx) => tx.table('t').get(k));
  return v && dec.decode(v);
};

describe('nested writes and close (defect 3)', () => {
  it('nest-1: db.write inside db.write rejects at once with EMISUSE; the outer write aborts; close settles', async () => {
    let inner: Promise<unknown> | undefined;
    const outer = db.write(async (tx) => {
      tx.table('t').put('outer', '1');
      inner = db.write((tx2) => tx2.table('t').put('inner', '2'));
      await inner;
    });
    isMisuse(await settles(outer, 'outer write'), 'inside a db.write callback');
    isMisuse(await settles(inner!, 'inner write'), 'inside a db.write callback');
    expect(await get('outer')).toBeUndefined();
    expect(await get('inner')).toBeUndefined();
    // the database is still usable, and close settles
    await db.write((tx) => tx.table('t').put('later', '3'));
    expect(await get('later')).toBe('3');
    expect((await settles(db.close(), 'close')).ok).toBe(true);
  });

  it('nest-2: after awaits (a read, a timer) the nested write is still refused; catching it lets the outer commit', async () => {
    await db.write((tx) => tx.table('t').put('x', 'y'));
    const outer = db.write(async (tx) => {
      expect(dec.decode((await tx.table('t').get('x'))!)).toBe('y');
      await new Promise((r) => setTimeout(r, 10));
      const r = await settles(db.write((t2) => t2.table('t').put('nested', 'no')), 'nested write');
      isMisuse(r, 'db.write');
      tx.table('t').put('outer', 'committed');
      return 'done';
    });
    const r = await settles(outer, 'outer write');
    expect(r).toEqual({ ok: true, value: 'done' });
    expect(await get('outer')).toBe('committed');
    expect(await get('nested')).toBeUndefined();
  });

  it('nest-3: db.close and db.segments.delete inside a write callback reject at once; the outer write completes', async () => {
    const seg = await db.segments.create();
    await seg.close();
    const r = await settles(db.write(async (tx) => {
      await tx.table('t').get('nothing');
      isMisuse(await settles(db.close(), 'nested close'), 'db.close');
      isMisuse(await settles(db.segments.delete(seg.id), 'nested delete'), 'db.segments.delete');
      tx.table('t').put('k', 'v');
    }), 'outer write');
    expect(r.ok).toBe(true);
    expect(await get('k')).toBe('v');
    await db.segments.delete(seg.id);
  });

  it('nest-4: a write started from a timer set inside a callback, after the callback settled, is not nesting', async () => {
    let later: Promise<unknown> | undefined;
    const started = new Promise<void>((resolve) => {
      void db.write((tx) => {
        tx.table('t').put('first', '1');
        setTimeout(() => {
          later = db.write((t2) => t2.table('t').put('second', '2'));
          resolve();
        }, 50);
      });
    });
    await started;
    expect((await settles(later!, 'timer write')).ok).toBe(true);
    expect(await get('second')).toBe('2');
  });

  it('nest-5: close() while a write runs and others are queued waits for all of them; later calls get EMISUSE', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const a = db.write(async (tx) => {
      tx.table('t').put('a', '1');
      await gate;
    });
    const b = db.write((tx) => tx.table('t').put('b', '2'));
    await new Promise((r) => setTimeout(r, 10)); // a's callback is running, b queued
    const closing = db.close();
    expect(db.close()).toBe(closing); // idempotent: the same promise
    isMisuse(await settles(db.write((tx) => tx.table('t').put('c', '3')), 'write after close'), 'closed');
    release();
    expect((await settles(a, 'a')).ok).toBe(true);
    expect((await settles(b, 'b')).ok).toBe(true);
    expect((await settles(closing, 'close')).ok).toBe(true);
    db = await open('n', { key, directory: dir });
    expect(await get('a')).toBe('1');
    expect(await get('b')).toBe('2');
    expect(await get('c')).toBeUndefined();
  });
});
