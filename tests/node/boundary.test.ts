// The JavaScript <-> wasm boundary (js/src/engine.ts, platform/opfs/lib.js, glue.c) under
// Node on real files: a storage backend's error message is reported with the call it
// happened in, and only with it.
import { describe, it, expect, beforeEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import createModule from '../../dist/pagedb.node.mjs';
import { NodeBackend } from '../../dist/node_backend.js';
import { SyncDatabase, PagedbError, ErrorCode } from '../../dist/node.js';

const key = new Uint8Array(32).map((_, i) => 3 * i + 1);
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-boundary-'));
});

/** A fresh module on a NodeBackend rooted at `dir` whose failures are recorded. */
async function moduleWithLog(): Promise<{ m: any; failures: string[] }> {
  const m = await createModule({ wasmBinary: fs.readFileSync(new URL('../../dist/pagedb.wasm', import.meta.url)) });
  const failures: string[] = [];
  const b = new NodeBackend(dir) as any;
  for (const name of ['open', 'read', 'write', 'sync', 'size', 'truncate', 'lock', 'remove', 'list', 'mkdir']) {
    const f = b[name].bind(b);
    b[name] = (...a: unknown[]) => {
      try {
        return f(...a);
      } catch (e) {
        failures.push(`${name}: ${(e as Error).message}`);
        throw e;
      }
    };
  }
  m.pagedbVfs = b;
  return { m, failures };
}

describe('backend error messages (node)', () => {
  it('a backend error the engine handled does not leak into a later, unrelated error', async () => {
    const { m, failures } = await moduleWithLog();
    // creating lists the database directory before it exists: the backend throws ENOENT
    // and the engine takes that as "no segment files" (a handled error, the open succeeds)
    const db = SyncDatabase.open(m, 'fresh', { key });
    expect(failures.some((f) => f.startsWith('list: ') && f.includes('ENOENT'))).toBe(true);
    const w = db.beginWrite();
    let err: unknown;
    try {
      db.beginWrite(); // the engine's own EBUSY: no backend call failed
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PagedbError);
    expect((err as PagedbError).code).toBe(ErrorCode.EBUSY);
    expect((err as PagedbError).message).not.toMatch(/ENOENT|scandir|no such file/);
    // the same after the module's export stubs have resolved to the raw wasm functions
    // (their first calls are behind us): an error left from an earlier call is dropped
    for (let i = 0; i < 3; i++) {
      m.pagedbLastError = new Error('left over from an earlier call');
      try {
        db.beginWrite();
        throw new Error('second beginWrite succeeded');
      } catch (e) {
        expect((e as PagedbError).code).toBe(ErrorCode.EBUSY);
        expect((e as PagedbError).message).not.toContain('left over');
      }
    }
    w.abort();
    db.close();
  });

  it('a backend error that fails the call is reported with that call', async () => {
    const { m } = await moduleWithLog();
    const db = SyncDatabase.open(m, 'full', { key });
    const b = m.pagedbVfs as NodeBackend;
    const write = b.write.bind(b);
    b.write = () => {
      throw Object.assign(new Error('disk quota exceeded (test)'), { code: 'EDQUOT' });
    };
    const w = db.beginWrite();
    let err: unknown;
    try {
      for (let i = 0; i < 2000; i++) w.put('t', new TextEncoder().encode(`k${i}`), new Uint8Array(100));
      w.commit();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PagedbError);
    expect((err as PagedbError).code).toBe(ErrorCode.EFULL);
    expect((err as PagedbError).message).toContain('disk quota exceeded (test)');
    b.write = write;
    db.close();
  });
});

const root = new URL('../../', import.meta.url);
const read = (p: string) => fs.readFileSync(new URL(p, root), 'utf8');

describe('one source of truth (node)', () => {
  it('ErrorCode is generated from pagedb.h and equals the compiled module codes', async () => {
    const { execFileSync } = await import('node:child_process');
    // the committed js/src/error_codes.ts is what the generator makes of the header
    execFileSync(process.execPath, [new URL('scripts/gen-error-codes.mjs', root).pathname, '--check'], { stdio: 'pipe' });
    const m = await createModule({ wasmBinary: fs.readFileSync(new URL('../../dist/pagedb.wasm', import.meta.url)) });
    const names = Object.entries(ErrorCode);
    expect(names.length).toBeGreaterThan(19);
    for (const [name, code] of names) {
      // pagedb_strerror of the compiled C core names each code "PAGEDB_<NAME>: ..."
      expect(m.UTF8ToString(m._pagedb_strerror(code)).split(':')[0]).toBe(`PAGEDB_${name}`);
    }
  });

  it('the exported C functions are listed once: exports.txt = EmModule = the built module', async () => {
    const listed = read('platform/opfs/exports.txt').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const engine = read('js/src/engine.ts');
    const iface = engine.slice(engine.indexOf('export interface EmModule'), engine.indexOf('\n}\n', engine.indexOf('export interface EmModule')));
    const declared = [...iface.matchAll(/^\s+_([a-z0-9_]+)\(/gm)].map((x) => x[1]);
    expect([...declared].sort()).toEqual([...listed].sort());
    const m = await createModule({ wasmBinary: fs.readFileSync(new URL('../../dist/pagedb.wasm', import.meta.url)) });
    for (const f of listed) expect(typeof (m as any)[`_${f}`], f).toBe('function');
  });

  it('the full module (data key rotation) adds exactly exports_full.txt = the optional EmModule members', async () => {
    const rd = (f: string) => read(f).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const base = rd('platform/opfs/exports.txt'), extra = rd('platform/opfs/exports_full.txt');
    const engine = read('js/src/engine.ts');
    const iface = engine.slice(engine.indexOf('export interface EmModule'), engine.indexOf('\n}\n', engine.indexOf('export interface EmModule')));
    expect([...iface.matchAll(/^\s+_([a-z0-9_]+)\?\(/gm)].map((x) => x[1]).sort()).toEqual([...extra].sort());
    const small = await createModule({ wasmBinary: fs.readFileSync(new URL('../../dist/pagedb.wasm', import.meta.url)) });
    const { default: createFull } = await import('../../dist/pagedb-full.node.mjs' as string);
    const full = await createFull({ wasmBinary: fs.readFileSync(new URL('../../dist/pagedb-full.wasm', import.meta.url)) });
    for (const f of [...base, ...extra]) expect(typeof full[`_${f}`], f).toBe('function');
    for (const f of extra) expect((small as any)[`_${f}`], f).toBeUndefined();
  });

  it('stat() carries every pagedb_stats field the C side flattens, by name', async () => {
    const { m } = await moduleWithLog();
    const db = SyncDatabase.open(m, 'stat', { key });
    const s = db.stat();
    expect(Object.keys(s).length).toBe(m._pdbjs_stat_count());
    expect(Object.keys(s)).toEqual([
      'pageSize', 'cipher', 'txnId', 'pageCount', 'freePages', 'fileBytes', 'cacheCapBytes', 'cachePages',
      'cacheHits', 'cacheMisses', 'cacheEvictions', 'bytesRead', 'bytesWritten', 'syncs', 'tables', 'realms',
      'openSlot', 'openTxn', 'otherSlotState', 'sealRealm', 'sealEpoch', 'seals', 'sealLimit', 'sealFlags',
    ]);
    expect(s.pageSize).toBe(4096);
    const w = db.beginWrite();
    w.put('t', new Uint8Array([1]), new Uint8Array([2]));
    w.commit();
    const after = db.stat();
    expect(after.txnId).toBe(s.txnId + 1);
    expect(after.tables).toBe(s.tables + 1);
    expect(after.syncs).toBeGreaterThan(s.syncs);
    db.close();
  });

  it('one exception-to-code mapping serves the wasm imports, the engine and the handler', async () => {
    const { errorCodeOf } = await import('../../dist/errors.js');
    const { toPagedbError } = await import('../../dist/engine.js');
    const { toWire } = await import('../../dist/handler.js');
    const dom = (name: string) => Object.assign(new Error(name), { name });
    const cases: [unknown, number][] = [
      [dom('QuotaExceededError'), ErrorCode.EFULL],
      [Object.assign(new Error('x'), { code: 'ENOSPC' }), ErrorCode.EFULL],
      [Object.assign(new Error('x'), { code: 'EDQUOT' }), ErrorCode.EFULL],
      [dom('NotFoundError'), ErrorCode.ENOTFOUND],
      [Object.assign(new Error('x'), { code: 'ENOENT' }), ErrorCode.ENOTFOUND],
      [dom('NoModificationAllowedError'), ErrorCode.EBUSY],
      [dom('InvalidStateError'), ErrorCode.EBUSY],
      [Object.assign(new Error('x'), { pagedbCode: ErrorCode.ENOTSUP }), ErrorCode.ENOTSUP],
      [new PagedbError(ErrorCode.ESEALED, 'sealed'), ErrorCode.ESEALED],
      [new Error('anything else'), ErrorCode.EIO],
      ['a string', ErrorCode.EIO],
      [undefined, ErrorCode.EIO],
    ];
    for (const [e, code] of cases) {
      expect(errorCodeOf(e)).toBe(code);
      expect(toPagedbError(e).code).toBe(code);
      expect(toWire(e).code).toBe(code);
    }
    // and the wasm imports use it: a backend open() throwing NotFoundError is ENOTFOUND
    const { m } = await moduleWithLog();
    const b = m.pagedbVfs as NodeBackend;
    b.open = () => {
      throw dom('NotFoundError');
    };
    let err: unknown;
    try {
      SyncDatabase.open(m, 'gone', { key, create: false });
    } catch (e) {
      err = e;
    }
    expect((err as PagedbError).code).toBe(ErrorCode.ENOTFOUND);
    expect((err as PagedbError).message).toContain('NotFoundError');
  });
});
