/**
 * engine.ts — the synchronous API over the WebAssembly module (Emscripten build of the C
 * core). It runs wherever the module runs synchronously: inside a dedicated Web Worker on
 * OPFS, or in Node on node:fs. The promise API (index.ts) and the worker use it; users who
 * already run code in a worker can use it directly (`openSync`) without the message hop.
 *
 * Memory: keys and values are copied into a reusable scratch area of the wasm heap; results
 * are copied out, so returned Uint8Arrays are owned by the caller.
 * Thread-safety: one SyncDatabase per module instance; single-threaded like its worker.
 */
import { PagedbError, ErrorCode } from './errors.js';
import type { Backend } from './backend.js';
import { toBytes, type Bytes, type OpenOptions, type RangeOptions, type Stats } from './types.js';

/** The subset of the Emscripten module the engine calls. */
export interface EmModule {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  HEAPF64: Float64Array;
  ENV?: Record<string, string>;
  pagedbVfs?: Backend;
  pagedbLastError?: unknown;
  UTF8ToString(ptr: number): string;
  stringToUTF8(s: string, ptr: number, cap: number): void;
  lengthBytesUTF8(s: string): number;
  _malloc(n: number): number;
  _free(p: number): void;
  _pdbjs_open(...a: number[]): number;
  _pdbjs_stat(db: number, out: number): number;
  _pdbjs_scan(...a: number[]): number;
  _pagedb_close(db: number): number;
  _pagedb_strerror(rc: number): number;
  _pagedb_errdetail(): number;
  _pagedb_txn_begin(db: number, flags: number, out: number): number;
  _pagedb_txn_commit(txn: number): number;
  _pagedb_txn_abort(txn: number): void;
  _pagedb_table_open(txn: number, name: number, realm: number, flags: number, out: number): number;
  _pagedb_get(t: number, k: number, kl: number, out: number): number;
  _pagedb_put(t: number, k: number, kl: number, v: number, vl: number, flags: number): number;
  _pagedb_del(t: number, k: number, kl: number): number;
  _pagedb_verify(db: number, out: number): number;
}

const CIPHERS = { none: 0, xchacha20poly1305: 1, aes256gcm: 2 } as const;
const F_CREATE = 0x1, F_RDONLY = 0x2, F_DETERMINISTIC = 0x10;
const TXN_RDONLY = 0x1, TABLE_CREATE = 0x1;

/**
 * Emscripten preRun hook: sets PAGEDB_ALLOW_DETERMINISTIC=1 in the module's environment
 * only when the options carry a testSeed and allowDeterministic (tests only); the C core
 * refuses the deterministic mode without it.
 */
export function testModeHook(o: OpenOptions): (m: EmModule) => void {
  return (m: EmModule) => {
    if (o.testSeed && o.allowDeterministic && m.ENV) m.ENV.PAGEDB_ALLOW_DETERMINISTIC = '1';
  };
}

/** A growable scratch area in the wasm heap (re-read HEAP views after every call). */
class Scratch {
  ptr = 0;
  cap = 0;
  constructor(private m: EmModule) {}
  ensure(n: number): number {
    if (n > this.cap) {
      if (this.ptr) this.m._free(this.ptr);
      this.cap = Math.max(n, this.cap * 2, 65536);
      this.ptr = this.m._malloc(this.cap);
      if (!this.ptr) throw new PagedbError(ErrorCode.ENOMEM, 'wasm heap exhausted');
    }
    return this.ptr;
  }
}

/** Throw a PagedbError for a non-zero rc, with the engine's (or backend's) detail. */
function check(m: EmModule, rc: number): void {
  if (rc === 0) return;
  let detail = m.UTF8ToString(m._pagedb_errdetail());
  const le = m.pagedbLastError;
  if (le) {
    const msg = le instanceof Error ? le.message : String(le);
    detail = detail ? `${detail} (${msg})` : msg;
    m.pagedbLastError = undefined;
  }
  if (!detail) detail = m.UTF8ToString(m._pagedb_strerror(rc));
  throw new PagedbError(rc, detail);
}

/** One open database on one module instance. */
export class SyncDatabase {
  private scratch: Scratch;
  private out: number; // 64 bytes of out-parameters
  private closed = false;
  private txns = new Set<SyncTxn>();

  private constructor(readonly m: EmModule, readonly db: number) {
    this.scratch = new Scratch(m);
    this.out = m._malloc(256);
  }

  /**
   * Open (creating by default) the database directory `path` through the module's
   * installed backend. Throws PagedbError (EKEY wrong key, EBUSY locked, EINVAL options...).
   */
  static open(m: EmModule, path: string, o: OpenOptions): SyncDatabase {
    if (!o.key && o.passphrase === undefined) throw new PagedbError(ErrorCode.EINVAL, 'a key or a passphrase is required');
    if (o.key && o.key.length !== 32) throw new PagedbError(ErrorCode.EINVAL, 'key must be 32 bytes');
    let flags = (o.create ?? true) && !o.readOnly ? F_CREATE : 0;
    if (o.readOnly) flags |= F_RDONLY;
    if (o.testSeed) {
      if (!o.allowDeterministic) throw new PagedbError(ErrorCode.EINVAL, 'testSeed needs allowDeterministic: true (tests only)');
      if (o.testSeed.length !== 32) throw new PagedbError(ErrorCode.EINVAL, 'testSeed must be 32 bytes');
      flags |= F_DETERMINISTIC;
    }
    const cipher = CIPHERS[o.cipher ?? 'xchacha20poly1305'];
    if (cipher === undefined) throw new PagedbError(ErrorCode.EINVAL, `unknown cipher ${o.cipher}`);
    const pass = o.passphrase !== undefined ? new TextEncoder().encode(o.passphrase) : undefined;
    const plen = m.lengthBytesUTF8(path) + 1;
    const buf = m._malloc(plen + 32 + 32 + (pass ? pass.length + 1 : 0) + 8);
    try {
      const pathPtr = buf, keyPtr = buf + plen, seedPtr = keyPtr + 32, passPtr = seedPtr + 32;
      const outPtr = (passPtr + (pass ? pass.length + 1 : 0) + 7) & ~7;
      m.stringToUTF8(path, pathPtr, plen);
      if (o.key) m.HEAPU8.set(o.key, keyPtr);
      if (o.testSeed) m.HEAPU8.set(o.testSeed, seedPtr);
      if (pass) m.HEAPU8.set(pass, passPtr);
      const rc = m._pdbjs_open(pathPtr, o.key ? keyPtr : 0, pass ? passPtr : 0, pass ? pass.length : 0, flags,
        o.pageSize ?? 0, cipher, o.cacheBytes ?? 0, o.testSeed ? seedPtr : 0, o.pwhashOpsLimit ?? 0,
        o.pwhashMemLimit ?? 0, outPtr);
      check(m, rc);
      return new SyncDatabase(m, m.HEAPU32[outPtr >> 2]);
    } finally {
      m.HEAPU8.fill(0, buf, buf + plen + 64 + (pass ? pass.length : 0)); // wipe key material
      m._free(buf);
      pass?.fill(0);
    }
  }

  private alive(): void {
    if (this.closed) throw new PagedbError(ErrorCode.EMISUSE, 'database is closed');
  }

  /** Begin a read-only snapshot transaction. */
  beginRead(): SyncTxn {
    return this.begin(TXN_RDONLY);
  }

  /** Begin the write transaction (one at a time; EBUSY if one is already active). */
  beginWrite(): SyncTxn {
    return this.begin(0x2 /* NOWAIT: single-threaded, waiting would deadlock */);
  }

  private begin(flags: number): SyncTxn {
    this.alive();
    check(this.m, this.m._pagedb_txn_begin(this.db, flags, this.out));
    const t = new SyncTxn(this, this.m.HEAPU32[this.out >> 2], (flags & TXN_RDONLY) === 0);
    this.txns.add(t);
    return t;
  }

  /** @internal */
  ended(t: SyncTxn): void {
    this.txns.delete(t);
  }

  /** @internal scratch for a key and a value: returns [keyPtr, valPtr, outPtr]. */
  stage(key: Uint8Array, val?: Uint8Array): [number, number] {
    const kp = this.scratch.ensure(key.length + (val ? val.length : 0) + 16);
    this.m.HEAPU8.set(key, kp);
    const vp = kp + key.length;
    if (val) this.m.HEAPU8.set(val, vp);
    return [kp, vp];
  }

  /** @internal */
  get outPtr(): number {
    return this.out;
  }

  /** Counters and sizes (see the C pagedb_stats). */
  stat(): Stats {
    this.alive();
    const p = this.scratch.ensure(16 * 8);
    check(this.m, this.m._pdbjs_stat(this.db, p));
    const v = Array.from(this.m.HEAPF64.subarray(p >> 3, (p >> 3) + 16));
    return {
      pageSize: v[0], cipher: v[1], txnId: v[2], pageCount: v[3], freePages: v[4], fileBytes: v[5],
      cacheCapBytes: v[6], cachePages: v[7], cacheHits: v[8], cacheMisses: v[9], cacheEvictions: v[10],
      bytesRead: v[11], bytesWritten: v[12], syncs: v[13], tables: v[14], realms: v[15],
    };
  }

  /** Authenticate every reachable page; returns the number of pages checked. */
  verify(): number {
    this.alive();
    check(this.m, this.m._pagedb_verify(this.db, this.out));
    return this.m.HEAPU32[this.out >> 2] + this.m.HEAPU32[(this.out >> 2) + 1] * 2 ** 32;
  }

  /** Abort open transactions and close; releases the file handles and lock. */
  close(): void {
    if (this.closed) return;
    for (const t of [...this.txns]) t.abort();
    this.closed = true;
    const rc = this.m._pagedb_close(this.db);
    if (this.scratch.ptr) this.m._free(this.scratch.ptr);
    this.m._free(this.out);
    check(this.m, rc);
  }
}

/** A transaction. Table handles are opened lazily and cached for its lifetime. */
export class SyncTxn {
  private tables = new Map<string, number>();
  private done = false;

  constructor(private d: SyncDatabase, private txn: number, readonly writable: boolean) {}

  private alive(): void {
    if (this.done) throw new PagedbError(ErrorCode.EMISUSE, 'transaction has ended');
  }

  /** Table handle pointer, or 0 when it does not exist and `create` is false. */
  private table(name: string, create: boolean): number {
    this.alive();
    const cached = this.tables.get(name);
    if (cached) return cached;
    const m = this.d.m;
    const n = m.lengthBytesUTF8(name) + 1;
    const p = m._malloc(n);
    try {
      m.stringToUTF8(name, p, n);
      const rc = m._pagedb_table_open(this.txn, p, 0, create && this.writable ? TABLE_CREATE : 0, this.d.outPtr);
      if (rc === ErrorCode.ENOTFOUND && !create) return 0;
      check(m, rc);
    } finally {
      m._free(p);
    }
    const h = m.HEAPU32[this.d.outPtr >> 2];
    this.tables.set(name, h);
    return h;
  }

  /** Value of key in table, or undefined (also when the table does not exist). */
  get(table: string, key: Bytes): Uint8Array | undefined {
    const t = this.table(table, false);
    if (!t) return undefined;
    const m = this.d.m;
    const [kp] = this.d.stage(toBytes(key));
    const kb = toBytes(key);
    const rc = m._pagedb_get(t, kp, kb.length, this.d.outPtr);
    if (rc === ErrorCode.ENOTFOUND) return undefined;
    check(m, rc);
    const dp = m.HEAPU32[this.d.outPtr >> 2], n = m.HEAPU32[(this.d.outPtr >> 2) + 1];
    return m.HEAPU8.slice(dp, dp + n);
  }

  /** Insert or replace (creates the table). */
  put(table: string, key: Bytes, value: Bytes): void {
    const t = this.table(table, true);
    const kb = toBytes(key), vb = toBytes(value);
    const [kp, vp] = this.d.stage(kb, vb);
    check(this.d.m, this.d.m._pagedb_put(t, kp, kb.length, vp, vb.length, 0));
  }

  /** Delete key; returns whether it existed. */
  delete(table: string, key: Bytes): boolean {
    const t = this.table(table, false);
    if (!t) return false;
    const kb = toBytes(key);
    const [kp] = this.d.stage(kb);
    const rc = this.d.m._pagedb_del(t, kp, kb.length);
    if (rc === ErrorCode.ENOTFOUND) return false;
    check(this.d.m, rc);
    return true;
  }

  /**
   * One batch of a range: at most `max` entries (and about `maxBytes` bytes), in order.
   * Returns the entries and whether more remain; continue with {@link nextRange}.
   */
  scan(table: string, r: RangeOptions, max = 256, maxBytes = 1 << 20): { entries: [Uint8Array, Uint8Array][]; more: boolean } {
    const t = this.table(table, false);
    if (!t) return { entries: [], more: false };
    const m = this.d.m;
    const from = r.gte !== undefined ? toBytes(r.gte) : undefined;
    const to = r.lt !== undefined ? toBytes(r.lt) : undefined;
    const pre = r.prefix !== undefined ? toBytes(r.prefix) : undefined;
    const limit = Math.min(r.limit ?? max, max);
    let cap = maxBytes;
    for (;;) {
      const hdr = (from?.length ?? 0) + (to?.length ?? 0) + (pre?.length ?? 0) + 32;
      const base = this.d.stage(new Uint8Array(0), new Uint8Array(hdr + cap))[0];
      let off = base;
      const put = (b?: Uint8Array): number => { if (!b) return 0; const p = off; m.HEAPU8.set(b, p); off += b.length; return p; };
      const fp = put(from), tp = put(to), pp = put(pre);
      const res = (off + 7) & ~7;
      const out = res + 16;
      const rc = m._pdbjs_scan(t, fp, from ? from.length : -1, tp, to ? to.length : -1, pp, pre ? pre.length : -1,
        r.reverse ? 1 : 0, limit, out, cap, res);
      check(m, rc);
      const used = m.HEAP32[res >> 2], count = m.HEAP32[(res >> 2) + 1], more = m.HEAP32[(res >> 2) + 2] === 1,
        need = m.HEAP32[(res >> 2) + 3];
      if (count === 0 && more && need > cap) {
        cap = need;
        continue;
      }
      const entries: [Uint8Array, Uint8Array][] = [];
      const view = new DataView(m.HEAPU8.buffer, out, used);
      for (let p = 0; p < used;) {
        const kl = view.getUint32(p, true), vl = view.getUint32(p + 4, true);
        const k = m.HEAPU8.slice(out + p + 8, out + p + 8 + kl);
        const v = m.HEAPU8.slice(out + p + 8 + kl, out + p + 8 + kl + vl);
        entries.push([k, v]);
        p += 8 + kl + vl;
      }
      return { entries, more: more || (count === limit && limit < (r.limit ?? Infinity)) };
    }
  }

  /** Commit (write) or end (read). Throws on failure; the transaction is over either way. */
  commit(): void {
    this.alive();
    this.done = true;
    this.d.ended(this);
    check(this.d.m, this.d.m._pagedb_txn_commit(this.txn));
  }

  /** Abort and discard. Never throws. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.d.ended(this);
    this.d.m._pagedb_txn_abort(this.txn);
  }
}

/** The range to continue with after a batch ending at key `last`. */
export function nextRange(r: RangeOptions, last: Uint8Array, taken: number): RangeOptions {
  const n: RangeOptions = { ...r };
  if (r.limit !== undefined) n.limit = r.limit - taken;
  if (r.reverse) n.lt = last;
  else {
    const s = new Uint8Array(last.length + 1);
    s.set(last);
    n.gte = s; // the immediate successor of last
  }
  return n;
}
