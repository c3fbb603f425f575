// Creating is all or nothing (issue 10, defect 6): an open that fails while creating a
// database — refused options, an unknown cipher, a cache too small, Argon2id limits
// the engine refuses — leaves no main.pdb (it used to leave a 0-byte one) and no directory
// it made; a failed open of an existing database changes none of its bytes; bad names
// are EINVAL.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, openSync, PagedbError, ErrorCode } from '../../dist/node.js';

const key = new Uint8Array(32).map((_, i) => i * 7);
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-create-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function code(p: () => Promise<unknown>): Promise<number> {
  try {
    const r = await p();
    (r as { close(): unknown }).close?.();
  } catch (e) {
    expect(e).toBeInstanceOf(PagedbError);
    return (e as PagedbError).code;
  }
  throw new Error('expected the open to fail');
}

const failing: [string, Record<string, unknown>, number][] = [
  ['no key', {}, ErrorCode.EINVAL],
  ['short key', { key: new Uint8Array(5) }, ErrorCode.EINVAL],
  ['unknown cipher', { key, cipher: 'aes128gcm' }, ErrorCode.EINVAL],
  ['cache too small', { key, cacheBytes: 1 }, ErrorCode.ENOMEM],
  ['Argon2id memory limit refused', { passphrase: 'pw', pwhashMemLimit: 1 }, ErrorCode.EINVAL],
];

describe('all-or-nothing create (defect 6)', () => {
  it('create-1: a failed create leaves no file and no directory (promise and sync API)', async () => {
    for (const [what, opts, want] of failing) {
      for (const api of ['open', 'openSync'] as const) {
        const name = `db-${api}-${what.replace(/\W+/g, '-')}`;
        const f = api === 'open' ? open : openSync;
        expect(await code(() => f(name, { ...opts, directory: dir } as never)), `${what} (${api})`).toBe(want);
        expect(fs.existsSync(path.join(dir, name)), `${what} (${api}) left ${name}/`).toBe(false);
      }
    }
    // a directory that existed before keeps its other files; only the empty main.pdb goes
    fs.mkdirSync(path.join(dir, 'pre'));
    fs.writeFileSync(path.join(dir, 'pre', 'notes.txt'), 'mine');
    expect(await code(() => open('pre', { key, cacheBytes: 1, directory: dir }))).toBe(ErrorCode.ENOMEM);
    expect(fs.readdirSync(path.join(dir, 'pre'))).toEqual(['notes.txt']);
    // and the same names then create normally
    const db = await open('pre', { key, directory: dir });
    await db.write((tx) => tx.table('t').put('k', 'v'));
    await db.close();
    expect(fs.statSync(path.join(dir, 'pre', 'main.pdb')).size).toBeGreaterThan(0);
  });

  it('create-2: a failed open of an existing database (wrong key, busy, bad option) changes none of its bytes', async () => {
    const db = await open('keep', { key, directory: dir });
    await db.write((tx) => tx.table('t').put('k', 'v'));
    const main = path.join(dir, 'keep', 'main.pdb');
    const sum = () => createHash('sha256').update(fs.readFileSync(main)).digest('hex');
    const before = sum();
    expect(await code(() => open('keep', { key, directory: dir }))).toBe(ErrorCode.EBUSY);
    expect(sum()).toBe(before);
    await db.close();
    const closed = sum();
    expect(await code(() => open('keep', { key: new Uint8Array(32), directory: dir }))).toBe(ErrorCode.EKEY);
    expect(await code(() => open('keep', { key, cacheBytes: 1, directory: dir }))).toBe(ErrorCode.ENOMEM);
    expect(fs.readdirSync(path.join(dir, 'keep'))).toEqual(['main.pdb']);
    expect(sum()).toBe(closed);
  });

  it('create-3: invalid database names are EINVAL, not EIO', async () => {
    for (const bad of ['', 'a\0b', 42, null, undefined]) {
      expect(await code(() => open(bad as never, { key, directory: dir })), String(bad)).toBe(ErrorCode.EINVAL);
      expect(await code(() => openSync(bad as never, { key, directory: dir })), String(bad)).toBe(ErrorCode.EINVAL);
    }
    expect(fs.readdirSync(dir)).toEqual([]);
    // a nested path is a database directory under options.directory
    const db = await open('a/b', { key, directory: dir });
    await db.close();
    expect(fs.existsSync(path.join(dir, 'a', 'b', 'main.pdb'))).toBe(true);
  });
});
