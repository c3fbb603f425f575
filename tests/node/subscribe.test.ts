// Issue 12 under Node on real files: idempotent writes (the id is recorded in the same
// transaction, FORMAT.md §11; a repeat is EEXIST and applies nothing, also after a
// reopen), the reserved table stays out of tables(), and db.subscribe (this handle's
// commits, table/range filters, unsubscribe, bad options).
import { describe, it, expect, beforeEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, PagedbError, ErrorCode } from '../../dist/node.js';

const key = new Uint8Array(32).map((_, i) => i + 3);
const dec = new TextDecoder();
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-subscribe-'));
});

async function code(p: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(PagedbError);
    return (e as PagedbError).code;
  }
}

describe('idempotent writes', () => {
  it('applies a write once per idempotency id, across a reopen', async () => {
    let db = await open('db', { key, directory: dir });
    const bump = () => db.write(async (tx) => {
      const t = tx.table('t');
      const n = Number(dec.decode((await t.get('n')) ?? new Uint8Array()) || 0);
      t.put('n', String(n + 1));
    }, { idempotencyId: 'op-1' });
    expect(await code(bump())).toBe('ok');
    const e = await code(bump());
    expect(e).toBe(ErrorCode.EEXIST);
    // a write of puts alone (no read: one message) with the same id is refused too
    expect(await code(db.write((tx) => tx.table('t').put('n', '99'), { idempotencyId: 'op-1' }))).toBe(ErrorCode.EEXIST);
    expect((await db.tables()).map((t) => t.name)).toEqual(['t']);
    await db.close();
    db = await open('db', { key, directory: dir });
    expect(await code(bump())).toBe(ErrorCode.EEXIST);
    expect(dec.decode(await db.read((tx) => tx.table('t').get('n')))).toBe('1');
    expect(await code(db.write((tx) => tx.table('t').put('x', 'y'), { idempotencyId: 'op-2' }))).toBe('ok');
    expect(await db.verify()).toBeGreaterThan(0);
    // bad ids and options
    expect(await code(db.write(() => undefined, { idempotencyId: '' }))).toBe(ErrorCode.EINVAL);
    expect(await code(db.write(() => undefined, { idempotencyId: 'x'.repeat(256) }))).toBe(ErrorCode.EINVAL);
    expect(await code(db.write(() => undefined, { idem: 'x' } as never))).toBe(ErrorCode.EINVAL);
    await db.close();
  });
});

describe('subscribe', () => {
  it('fires once per commit with txn id, tables, realm and keys; filters; unsubscribes', async () => {
    const db = await open('db', { key, directory: dir });
    const all: { txnId: number; tables: string[]; keys: (string[] | undefined)[] }[] = [];
    const inbox: number[] = [];
    const off = db.subscribe((c) => all.push({ txnId: c.txnId, tables: c.tables.map((t) => t.name),
      keys: c.tables.map((t) => t.keys?.map((k) => dec.decode(k))) }));
    db.subscribe((c) => inbox.push(c.txnId), { table: 'mail', prefix: 'inbox/' });
    await db.write((tx) => tx.table('mail').put('inbox/1', 'a'));
    await db.write((tx) => {
      tx.table('mail').put('sent/1', 'b');
      tx.table('other').delete('z');
    });
    await db.write(async (tx) => {
      tx.table('mail').clear();
    });
    const txnId = (await db.stat()).txnId;
    expect(all.map((c) => c.txnId)).toEqual([txnId - 2, txnId - 1, txnId]);
    expect(all[0]).toMatchObject({ tables: ['mail'], keys: [['inbox/1']] });
    expect(all[1]).toMatchObject({ tables: ['mail', 'other'], keys: [['sent/1'], ['z']] });
    expect(all[2]).toMatchObject({ tables: ['mail'], keys: [undefined] }); // cleared: every key
    expect(inbox).toEqual([txnId - 2, txnId]); // not the commit of sent/1
    off();
    off();
    await db.write((tx) => tx.table('mail').put('inbox/2', 'c'));
    expect(all.length).toBe(3);
    expect(inbox.length).toBe(3);
    expect(() => db.subscribe('nope' as never)).toThrow(PagedbError);
    expect(() => db.subscribe(() => undefined, { prefix: 'a' })).toThrow(/needs "table"/);
    expect(() => db.subscribe(() => undefined, { tabel: 'a' } as never)).toThrow(/unknown subscribe option/);
    await db.close();
    expect(() => db.subscribe(() => undefined)).toThrow(PagedbError);
  });
});

describe('storage', () => {
  it('reports the main file and segment bytes (no browser quota under Node)', async () => {
    const db = await open('db', { key, directory: dir });
    const seg = await db.segments.create();
    await seg.append(new Uint8Array(10_000).fill(1));
    await seg.seal();
    await db.write((tx) => tx.segments.link(seg.id));
    await seg.close();
    const s = await db.storage();
    expect(s.mainBytes).toBe(fs.statSync(path.join(dir, 'db', 'main.pdb')).size);
    expect(s).toMatchObject({ segmentBytes: 10_000, segments: 1, usage: undefined, quota: undefined, persisted: undefined });
    await db.close();
    await expect(db.storage()).rejects.toThrow(PagedbError);
  });
});

