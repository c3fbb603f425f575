/**
 * engine.ts — the synchronous API over the WebAssembly module (Emscripten build of the C
 * core). It runs wherever the module runs synchronously: inside a dedicated Web Worker on
 * OPFS, or in Node on node:fs. The promise API (index.ts) and the worker use it; users who
 * already run code in a worker can use it directly (`openSync`) without the message hop.
 *
 * Memory: keys and values are copied into a reusable scratch area of the wasm heap; results
 * are copied out, so returned Uint8Arrays are owned by the caller. Segment appends and
 * reads go through the heap in slices of at most SEGMENT_IO_BYTES (1 MiB), so a large
 * append or read never grows the heap beyond that (plus the engine's own capped staging).
 * Thread-safety: one SyncDatabase per module instance; single-threaded like its worker.
 *
 * Segments (pagedb.h "Segments", FORMAT.md §9): SyncDatabase.createSegment/openSegment
 * return a SyncSegment (append, read, sync, seal, stat, verify, close); SyncTxn links,
 * unlinks, gets and lists them. Segment ids are bigints (see SegmentIdLike). On OPFS a new
 * segment file needs an asynchronous step: use createSegmentAsync (it works everywhere);
 * see opfs_backend.ts for the protocol.
 */
import { PagedbError, ErrorCode, errorCodeOf } from './errors.js';
import { bindModule } from './boundary.js';
import type { Backend } from './backend.js';
import { countRange, listTables, type RawTableInfo } from './manage_engine.js';
import {
  toBytes, toSegmentId, type Bytes, type OpenOptions, type RangeOptions, type SegmentIdLike, type SegmentInfo,
  type SegmentOpenOptions, type Stats,
} from './types.js';
import { openOptions, rangeOptions, segmentOpenOptions, tableName, uintArg } from './validate.js';

/** The subset of the Emscripten module the engine calls. */
export interface EmModule {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  HEAPF64: Float64Array;
  ENV?: Record<string, string>;
  /** The storage backend the wasm imports call (platform/opfs/lib.js). */
  pagedbVfs?: Backend;
  /** What the backend threw during the current call into the engine (set by lib.js). */
  pagedbLastError?: unknown;
  /** The exception-to-code mapping lib.js uses (errors.ts errorCodeOf; boundary.ts). */
  pagedbErrorCode?: (e: unknown) => number;
  UTF8ToString(ptr: number): string;
  stringToUTF8(s: string, ptr: number, cap: number): void;
  lengthBytesUTF8(s: string): number;
  _malloc(n: number): number;
  _free(p: number): void;
  _pdbjs_open(...a: number[]): number;
  _pdbjs_stat(db: number, out: number): number;
  _pdbjs_stat_count(): number;
  _pdbjs_stat_names(): number;
  _pdbjs_seginfo_bytes(): number;
  _pdbjs_tabinfo_bytes(): number;
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
  _pagedb_segment_payload(db: number): number;
  _pagedb_segment_create(db: number, realm: number, out: number, idOut: number): number;
  _pagedb_segment_append(seg: number, data: number, len: number): number;
  _pagedb_segment_sync(seg: number): number;
  _pagedb_segment_seal(seg: number): number;
  _pagedb_segment_close(seg: number): number;
  _pdbjs_segment_open(db: number, idLo: number, idHi: number, flags: number, out: number): number;
  _pdbjs_segment_read(seg: number, offset: number, buf: number, len: number): number;
  _pdbjs_segment_stat(seg: number, out: number): number;
  _pdbjs_segment_verify(seg: number, pagesOut: number): number;
  _pdbjs_segment_delete(db: number, idLo: number, idHi: number): number;
  _pdbjs_segment_link(txn: number, idLo: number, idHi: number, meta: number, metalen: number): number;
  _pdbjs_segment_unlink(txn: number, idLo: number, idHi: number): number;
  _pdbjs_segment_get(txn: number, idLo: number, idHi: number, out: number, cap: number, result: number): number;
  _pdbjs_segment_list(txn: number, afterLo: number, afterHi: number, out: number, cap: number, result: number): number;
  _pagedb_table_drop(txn: number, name: number): number;
  _pdbjs_table_list(txn: number, after: number, out: number, cap: number, result: number): number;
  _pdbjs_count(t: number, from: number, fromlen: number, to: number, tolen: number, pre: number, plen: number,
    limit: number, count: number): number;
  _pdbjs_export_begin(db: number, since: number, out: number): number;
  _pdbjs_export_step(e: number, window: number, result: number, prog: number): number;
  _pdbjs_export_cancel(e: number): void;
  _pdbjs_export_end(e: number): void;
  _pdbjs_snapshot_import(dir: number, spool: number, key: number, pass: number, passlen: number, ops: number,
    mem: number, prog: number): number;
  _pdbjs_rekey(db: number, key: number, pass: number, passlen: number, newKey: number, newPass: number,
    newPasslen: number, ops: number, mem: number): number;
  /** Only in the full module (platform/opfs/exports_full.txt; rotate_engine.ts loads it and calls these). */
  _pdbjs_rotate_step?(db: number, realm: number, pagesPerStep: number, out: number): number;
  _pdbjs_compact_step?(db: number, pagesPerStep: number, out: number): number;
}

/** Largest slice of a segment append or read copied through the wasm heap at once (bytes). */
export const SEGMENT_IO_BYTES = 1 << 20;
const SEG_APPEND = 0x1, SEG_VERIFY = 0x2;
const LIST_CAP = 256 * 1024;

const lo32 = (v: bigint): number => Number(v & 0xffffffffn);
const hi32 = (v: bigint): number => Number(v >> 32n);

/** Decode one flattened segment info record at heap address p (layout in pagedb_js.h). */
function readInfo(m: EmModule, p: number): { info: SegmentInfo; size: number } {
  const SEGINFO_BYTES = bindModule(m).segInfoBytes;
  const dv = new DataView(m.HEAPU8.buffer, p, SEGINFO_BYTES);
  const flags = dv.getUint32(12, true), metalen = dv.getUint32(48, true);
  const info: SegmentInfo = {
    id: BigInt(dv.getUint32(0, true)) | (BigInt(dv.getUint32(4, true)) << 32n),
    realm: dv.getUint32(8, true),
    length: dv.getFloat64(16, true),
    pages: dv.getFloat64(24, true),
    sealed: (flags & 1) !== 0,
    linked: (flags & 2) !== 0,
    root: m.HEAPU8.slice(p + 32, p + 48),
    meta: m.HEAPU8.slice(p + SEGINFO_BYTES, p + SEGINFO_BYTES + metalen),
  };
  return { info, size: SEGINFO_BYTES + metalen };
}

/**
 * A PagedbError for anything a backend's asynchronous step threw, with the code of
 * errors.ts errorCodeOf (the mapping lib.js uses for synchronous backend errors).
 */
export function toPagedbError(e: unknown): PagedbError {
  if (e instanceof PagedbError) return e;
  return new PagedbError(errorCodeOf(e), String((e as { message?: unknown } | null)?.message ?? e));
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
export function check(m: EmModule, rc: number): void {
  if (rc === 0) return;
  const le = m.pagedbLastError; // only this call's: every call starts without one (boundary.ts)
  let detail = m.UTF8ToString(m._pagedb_errdetail());
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
  private segs = new Set<SyncSegment>();
  // the credential the database opens with now (rekey needs it): kept for as long as the
  // database is open, like the open options a tab keeps to reopen it on failover
  private cred: { key?: Uint8Array; passphrase?: string } = {};

  private constructor(readonly m: EmModule, readonly db: number) {
    this.scratch = new Scratch(m);
    this.out = m._malloc(256);
  }

  /**
   * Open (creating by default) the database directory `path` through the module's
   * installed backend. Throws PagedbError (EKEY wrong key, EBUSY locked, EINVAL options...).
   */
  static open(m: EmModule, path: string, options: OpenOptions): SyncDatabase {
    const o = openOptions(options);
    bindModule(m);
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
      const d = new SyncDatabase(m, m.HEAPU32[outPtr >> 2]);
      d.cred = { key: o.key?.slice(), passphrase: o.passphrase };
      try { // AES-256-GCM past half its seals per key (FORMAT.md §13.2): say so loudly
        const s = d.stat();
        if (s.sealFlags & 1) console.warn(`pagedb ${path}: realm ${s.sealRealm}'s data key made ${s.seals} of its ${s.sealLimit} seals: rotate it (db.rotateKeys)`);
      } catch { /* a catalog read error surfaces at the first use instead */ }
      return d;
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

  /** @internal scratch of at least n bytes in the wasm heap (contents unspecified). */
  scratchArea(n: number): number {
    return this.scratch.ensure(n);
  }

  /** @internal copy a key and a value into the scratch area: returns [keyPtr, valPtr]. */
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
    const keys = bindModule(this.m).statKeys; // pdbjs_stat's order (PDBJS_STAT_FIELDS)
    const p = this.scratch.ensure(keys.length * 8);
    check(this.m, this.m._pdbjs_stat(this.db, p));
    const v = this.m.HEAPF64.subarray(p >> 3, (p >> 3) + keys.length);
    const s = {} as Record<keyof Stats, number>;
    keys.forEach((k, i) => {
      s[k] = v[i];
    });
    return s;
  }

  /** Authenticate every reachable page; returns the number of pages checked. */
  verify(): number {
    this.alive();
    check(this.m, this.m._pagedb_verify(this.db, this.out));
    return this.m.HEAPU32[this.out >> 2] + this.m.HEAPU32[(this.out >> 2) + 1] * 2 ** 32;
  }

  /**
   * Change the key-encryption key (pagedb.h pagedb_rekey, docs/FORMAT.md §13.1): afterwards
   * only `newKey` (32 bytes) or `newPassphrase` (exactly one) opens the database; the data
   * keys and pages stay as they are (two commits, O(1)). The current credential is the one
   * this handle was opened with (or set by the last rekey). Argon2id limits for a new
   * passphrase as in OpenOptions (0/absent = INTERACTIVE). Blocks for the Argon2id
   * derivations (tens to hundreds of ms each with the default limits).
   * Throws PagedbError: EINVAL (neither or both credentials, a key not 32 bytes, an empty
   * passphrase, limits out of range), EBUSY (a write transaction of this handle is open),
   * EMISUSE (read-only or closed), EKEY (the stored credential no longer unwraps the data
   * key), EIO/EFULL/ENOMEM (a commit failed: before the first commit is durable the old
   * key stays valid, after it the new one; a failed sync closes the handle for writes).
   */
  rekey(n: { newKey?: Uint8Array; newPassphrase?: string; pwhashOpsLimit?: number; pwhashMemLimit?: number }): void {
    this.alive();
    const key = n.newKey, pass = n.newPassphrase;
    if ((key === undefined) === (pass === undefined))
      throw new PagedbError(ErrorCode.EINVAL, 'rekey needs exactly one of newKey or newPassphrase');
    if (key !== undefined && (!(key instanceof Uint8Array) || key.length !== 32))
      throw new PagedbError(ErrorCode.EINVAL, 'newKey must be a 32-byte Uint8Array');
    if (pass !== undefined && (typeof pass !== 'string' || pass === ''))
      throw new PagedbError(ErrorCode.EINVAL, 'newPassphrase must be a non-empty string');
    const ops = uintArg(n.pwhashOpsLimit ?? 0, 'pwhashOpsLimit'), mem = uintArg(n.pwhashMemLimit ?? 0, 'pwhashMemLimit');
    const enc = new TextEncoder();
    const cp = this.cred.passphrase !== undefined ? enc.encode(this.cred.passphrase) : undefined;
    const np = pass !== undefined ? enc.encode(pass) : undefined;
    const size = 64 + (cp ? cp.length + 1 : 0) + (np ? np.length + 1 : 0);
    const buf = this.m._malloc(size);
    if (!buf) throw new PagedbError(ErrorCode.ENOMEM, 'wasm heap exhausted');
    try {
      const ck = buf, nk = buf + 32, cpp = buf + 64, npp = cpp + (cp ? cp.length + 1 : 0);
      const h = this.m.HEAPU8;
      h.fill(0, buf, buf + size);
      if (this.cred.key) h.set(this.cred.key, ck);
      if (key) h.set(key, nk);
      if (cp) h.set(cp, cpp);
      if (np) h.set(np, npp);
      check(this.m, this.m._pdbjs_rekey(this.db, this.cred.key ? ck : 0, cp ? cpp : 0, cp ? cp.length : 0, key ? nk : 0,
        np ? npp : 0, np ? np.length : 0, ops, mem));
      this.cred = { key: key?.slice(), passphrase: pass };
    } finally {
      this.m.HEAPU8.fill(0, buf, buf + size); // wipe key material
      this.m._free(buf);
      cp?.fill(0);
      np?.fill(0);
    }
  }

  /** @internal a heap area of n bytes (the shared scratch; valid until the next call). */
  heap(n: number): number {
    return this.scratch.ensure(n);
  }

  /** @internal */
  segmentEnded(s: SyncSegment): void {
    this.segs.delete(s);
  }

  /** Payload bytes per segment data page: page size - 72 (4024 for 4096-byte pages). */
  segmentPayload(): number {
    this.alive();
    return this.m._pagedb_segment_payload(this.db);
  }

  /**
   * Create an empty, unlinked segment in realm `realm` (default 0) and open it for append.
   * Link it in a write transaction (SyncTxn.linkSegment) to make it durable in the catalog:
   * an unlinked segment is deleted at the next read-write open. Synchronous: on OPFS,
   * where a new file needs an asynchronous call, it throws PagedbError ENOTSUP unless the
   * file was prepared — use {@link createSegmentAsync} there.
   * Errors: ENOTFOUND (no such realm), EMISUSE (read-only database, closed), EIO/EFULL.
   */
  createSegment(realm = 0): SyncSegment {
    this.alive();
    const m = this.m, out = this.out; // out: handle at +0, 64-bit id at +8
    uintArg(realm, 'realm', 0xffffffff);
    check(m, m._pagedb_segment_create(this.db, realm, out, out + 8));
    const id = BigInt(m.HEAPU32[(out + 8) >> 2]) | (BigInt(m.HEAPU32[(out + 12) >> 2]) << 32n);
    return this.track(new SyncSegment(this, m.HEAPU32[out >> 2], id, true, false));
  }

  /**
   * createSegment on every backend, including asynchronous ones (OPFS): prepares the file
   * the engine will open (backend.settle(true)); if the engine still asks for another file
   * (the first create of a session, whose id the backend cannot know yet), prepares the
   * next one and retries once. A refused attempt consumes its id and leaves nothing behind
   * (no file, no record; ids are never reused, so the gap is harmless — opfs_backend.ts).
   * Errors: those of createSegment, and of creating the OPFS file (EFULL, EIO...).
   */
  async createSegmentAsync(realm = 0): Promise<SyncSegment> {
    const b = this.m.pagedbVfs;
    if (!b?.settle) return this.createSegment(realm);
    for (let attempt = 0; ; attempt++) {
      this.alive();
      try {
        await b.settle(true);
      } catch (e) {
        throw toPagedbError(e);
      }
      b.takeDeferredCreate?.();
      try {
        return this.createSegment(realm);
      } catch (e) {
        const refused = b.takeDeferredCreate?.() === true;
        if (attempt > 0 || !refused || !(e instanceof PagedbError && e.code === ErrorCode.ENOTSUP)) throw e;
      }
    }
  }

  /**
   * Open segment `id`: for reading, or with `append` for appending and reading. A segment
   * is found when linked in the last committed catalog, or created by this handle and not
   * deleted. `verify` authenticates every page of a sealed segment against its root first.
   * Errors: ENOTFOUND (no such segment), ESEALED (append on a sealed segment), EBUSY
   * (another append handle is open on it), EAUTH/ECORRUPT (footer or pages damaged),
   * EINVAL (bad id), EMISUSE.
   */
  openSegment(id: SegmentIdLike, opts?: SegmentOpenOptions): SyncSegment {
    this.alive();
    const v = toSegmentId(id), m = this.m, o = segmentOpenOptions(opts);
    const flags = (o.append ? SEG_APPEND : 0) | (o.verify ? SEG_VERIFY : 0);
    check(m, m._pdbjs_segment_open(this.db, lo32(v), hi32(v), flags, this.out));
    const s = this.track(new SyncSegment(this, m.HEAPU32[this.out >> 2], v, !!o.append, false));
    try {
      s.markSealed(s.stat().sealed);
    } catch (e) {
      s.close();
      throw e;
    }
    return s;
  }

  private track(s: SyncSegment): SyncSegment {
    this.segs.add(s);
    return s;
  }

  /**
   * Delete segment `id` that is not linked (created by this handle, never linked, no open
   * handle): its file is removed at once (on OPFS: forgotten at once, removed from OPFS by
   * {@link settle}). A linked segment is deleted by unlinking it in a write transaction.
   * Errors: ENOTFOUND, EBUSY (linked, or a handle is open on it), EMISUSE, EIO.
   */
  deleteSegment(id: SegmentIdLike): void {
    this.alive();
    const v = toSegmentId(id);
    check(this.m, this.m._pdbjs_segment_delete(this.db, lo32(v), hi32(v)));
  }

  /** Every linked segment in the latest committed state, in id order (own read snapshot). */
  listSegments(): SegmentInfo[] {
    const t = this.beginRead();
    try {
      return t.listSegments();
    } finally {
      t.abort();
    }
  }

  /**
   * Complete the backend's deferred work (OPFS: remove the files of deleted and unlinked
   * segments). A no-op on synchronous backends. Leftovers if never called are deleted by
   * the engine at the next read-write open.
   */
  async settle(): Promise<void> {
    try {
      await this.m.pagedbVfs?.settle?.();
    } catch (e) {
      throw toPagedbError(e);
    }
  }

  /**
   * Close open segment handles (an append handle writes its staged tail, without sync),
   * abort open transactions and close; releases the file handles and lock. Throws the
   * first error after everything is closed.
   */
  close(): void {
    if (this.closed) return;
    let first: unknown;
    for (const s of [...this.segs]) {
      try {
        s.close();
      } catch (e) {
        first ??= e;
      }
    }
    for (const t of [...this.txns]) t.abort();
    this.closed = true;
    const rc = this.m._pagedb_close(this.db);
    if (this.scratch.ptr) this.m._free(this.scratch.ptr);
    this.m._free(this.out);
    try {
      check(this.m, rc);
    } finally {
      this.m.pagedbVfs?.releaseAll?.();
    }
    if (first) throw first;
  }
}

/**
 * An open segment (pagedb_segment): created by SyncDatabase.createSegment(Async) or
 * opened by SyncDatabase.openSegment. One thread (this module's) by construction. Every
 * method throws PagedbError; after close every method throws EMISUSE.
 */
export class SyncSegment {
  private done = false;
  private sealed: boolean;

  /** @internal */
  constructor(private d: SyncDatabase, private seg: number, readonly id: bigint, readonly appendable: boolean, sealed: boolean) {
    this.sealed = sealed;
  }

  /** @internal */
  markSealed(v: boolean): void {
    this.sealed = v;
  }

  /** True once the segment is known to be sealed (by seal(), or at open). */
  get isSealed(): boolean {
    return this.sealed;
  }

  /** True after close(). */
  get closed(): boolean {
    return this.done;
  }

  private alive(): void {
    if (this.done) throw new PagedbError(ErrorCode.EMISUSE, `segment ${this.id} is closed`);
  }

  /**
   * Append `bytes` (copied; strings UTF-8 encoded) to the end of the segment, in slices of
   * at most SEGMENT_IO_BYTES. Readable at once through this handle; durable only after
   * sync() or seal(). Errors: ESEALED, EMISUSE (not an append handle, closed), EIO/EFULL
   * (the handle is then poisoned: reopen the database to recover the segment), ENOTFOUND
   * (the segment was unlinked).
   */
  append(bytes: Bytes): void {
    this.alive();
    if (!this.appendable) throw new PagedbError(ErrorCode.EMISUSE, `segment ${this.id} is not open for append`);
    const b = toBytes(bytes, 'bytes'), m = this.d.m;
    if (b.length === 0) {
      check(m, m._pagedb_segment_append(this.seg, 0, 0));
      return;
    }
    for (let off = 0; off < b.length; off += SEGMENT_IO_BYTES) {
      const part = b.subarray(off, Math.min(b.length, off + SEGMENT_IO_BYTES));
      const p = this.d.heap(part.length);
      m.HEAPU8.set(part, p);
      check(m, m._pagedb_segment_append(this.seg, p, part.length));
    }
  }

  /**
   * Read `length` bytes at byte `offset` (both non-negative safe integers; the range must
   * lie inside the segment). Every page is authenticated before its bytes are returned.
   * Returns a new Uint8Array owned by the caller. Errors: EINVAL (range beyond the end),
   * EAUTH/ECORRUPT (a damaged page: no byte of it is returned), ENOTFOUND (unlinked), EIO.
   */
  read(offset: number, length: number): Uint8Array {
    this.alive();
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0)
      throw new PagedbError(ErrorCode.EINVAL, `bad range: offset ${offset}, length ${length}`);
    const m = this.d.m;
    const out = new Uint8Array(length);
    if (length === 0) {
      check(m, m._pdbjs_segment_read(this.seg, offset, this.d.heap(1), 0));
      return out;
    }
    for (let done = 0; done < length; done += SEGMENT_IO_BYTES) {
      const n = Math.min(SEGMENT_IO_BYTES, length - done);
      const p = this.d.heap(n);
      check(m, m._pdbjs_segment_read(this.seg, offset + done, p, n));
      out.set(m.HEAPU8.subarray(p, p + n), done);
    }
    return out;
  }

  /**
   * Make every byte appended so far durable (writes the partial tail page and its copy,
   * then flush/fdatasync). No-op on a read handle. Errors: EIO/EFULL (poisoned), ENOTFOUND.
   */
  sync(): void {
    this.alive();
    check(this.d.m, this.d.m._pagedb_segment_sync(this.seg));
  }

  /**
   * Seal: write the tail, sync, write the footer (length, pages, root hash), sync. The
   * segment is then immutable; the handle stays open for reading. Link the segment again
   * afterwards to record the sealed state in the catalog. Errors: ESEALED (already
   * sealed), EMISUSE (read handle), EIO/EFULL, ENOTFOUND.
   */
  seal(): void {
    this.alive();
    check(this.d.m, this.d.m._pagedb_segment_seal(this.seg));
    this.sealed = true;
  }

  /** Length, pages, sealed state and root as seen by this handle (meta is empty). */
  stat(): SegmentInfo {
    this.alive();
    const m = this.d.m, p = this.d.heap(bindModule(m).segInfoBytes);
    check(m, m._pdbjs_segment_stat(this.seg, p));
    return readInfo(m, p).info;
  }

  /**
   * Authenticate every data page on disk (and, sealed, the root and footer); returns the
   * number of pages checked. Errors: EAUTH/ECORRUPT naming the first bad page, EIO.
   */
  verify(): number {
    this.alive();
    const m = this.d.m, p = this.d.heap(8);
    check(m, m._pdbjs_segment_verify(this.seg, p));
    return new DataView(m.HEAPU8.buffer, p, 8).getFloat64(0, true);
  }

  /**
   * Close the handle; an append handle writes its staged partial page first (no sync).
   * The handle is freed even when an error is thrown (EIO/EFULL, or a poisoned handle's
   * code). Idempotent.
   */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.d.segmentEnded(this);
    check(this.d.m, this.d.m._pagedb_segment_close(this.seg));
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
    tableName(name);
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
    return this.getView(table, toBytes(key, 'key'))?.slice();
  }

  /**
   * @internal get's value as a view into the wasm heap, valid until the next call on this
   * module (copy it before), or undefined.
   */
  getView(table: string, key: Uint8Array): Uint8Array | undefined {
    const t = this.table(table, false);
    if (!t) return undefined;
    const m = this.d.m;
    const [kp] = this.d.stage(key);
    const rc = m._pagedb_get(t, kp, key.length, this.d.outPtr);
    if (rc === ErrorCode.ENOTFOUND) return undefined;
    check(m, rc);
    const dp = m.HEAPU32[this.d.outPtr >> 2], n = m.HEAPU32[(this.d.outPtr >> 2) + 1];
    return m.HEAPU8.subarray(dp, dp + n);
  }

  /** Insert or replace (creates the table). */
  put(table: string, key: Bytes, value: Bytes): void {
    const t = this.table(table, true);
    const kb = toBytes(key, 'key'), vb = toBytes(value, 'value');
    const [kp, vp] = this.d.stage(kb, vb);
    check(this.d.m, this.d.m._pagedb_put(t, kp, kb.length, vp, vb.length, 0));
  }

  /** Delete key; returns whether it existed. */
  delete(table: string, key: Bytes): boolean {
    const t = this.table(table, false);
    if (!t) return false;
    const kb = toBytes(key, 'key');
    const [kp] = this.d.stage(kb);
    const rc = this.d.m._pagedb_del(t, kp, kb.length);
    if (rc === ErrorCode.ENOTFOUND) return false;
    check(this.d.m, rc);
    return true;
  }

  /**
   * One batch of a range: at most `max` entries (and about `maxBytes` bytes; a first entry
   * larger than that is returned alone), in order. Returns the entries and whether more
   * remain; continue with {@link nextRange}. Each key and value is a new Uint8Array.
   * The staging area in the wasm heap is allocated once and reused (only the bytes of the
   * entries found are written and copied out).
   */
  scan(table: string, r: RangeOptions, max = 256, maxBytes = 1 << 20): { entries: [Uint8Array, Uint8Array][]; more: boolean } {
    const res = this.scanRecords(table, rangeOptions(r), max, maxBytes);
    const entries: [Uint8Array, Uint8Array][] = new Array(res.count);
    const rec = res.records;
    const view = new DataView(rec.buffer, rec.byteOffset, rec.length);
    for (let p = 0, i = 0; i < res.count; i++) {
      const kl = view.getUint32(p, true), vl = view.getUint32(p + 4, true);
      entries[i] = [rec.slice(p + 8, p + 8 + kl), rec.slice(p + 8 + kl, p + 8 + kl + vl)];
      p += 8 + kl + vl;
    }
    return { entries, more: res.more };
  }

  /**
   * @internal scan's entries as the engine writes them — records of [key length u32le,
   * value length u32le, key, value] — in a view into the wasm heap valid until the next
   * call on this module, with their count and whether more remain.
   */
  scanRecords(table: string, r: RangeOptions, max = 256, maxBytes = 1 << 20): { records: Uint8Array; count: number; more: boolean } {
    const t = this.table(table, false);
    if (!t || r.limit === 0) return { records: new Uint8Array(0), count: 0, more: false };
    const m = this.d.m;
    const from = r.gte !== undefined ? toBytes(r.gte, 'range.gte') : undefined;
    const to = r.lt !== undefined ? toBytes(r.lt, 'range.lt') : undefined;
    const pre = r.prefix !== undefined ? toBytes(r.prefix, 'range.prefix') : undefined;
    const limit = Math.min(r.limit ?? max, max);
    let cap = maxBytes;
    for (;;) {
      const hdr = (from?.length ?? 0) + (to?.length ?? 0) + (pre?.length ?? 0) + 32;
      const base = this.d.scratchArea(hdr + cap + 16);
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
      return {
        records: m.HEAPU8.subarray(out, out + used), count,
        more: more || (count === limit && limit < (r.limit ?? Infinity)),
      };
    }
  }

  /**
   * Link segment `id` into the catalog in this write transaction, storing `meta` (copied;
   * at most 65536 bytes) beside it; visible to other handles once committed. `meta`
   * undefined/null keeps an existing record's metadata (none for a new link). Linking an
   * already linked segment replaces its record (do it after seal() to record the sealed
   * state). Errors: ENOTFOUND (no such segment), ETOOBIG (meta), EMISUSE (read txn).
   */
  linkSegment(id: SegmentIdLike, meta?: Bytes | null): void {
    this.alive();
    const v = toSegmentId(id), m = this.d.m;
    const mb = meta === undefined || meta === null ? undefined : toBytes(meta, 'meta');
    const p = this.d.heap((mb?.length ?? 0) + 1);
    if (mb) m.HEAPU8.set(mb, p);
    check(m, m._pdbjs_segment_link(this.txn, lo32(v), hi32(v), p, mb ? mb.length : -1));
  }

  /**
   * Unlink segment `id` in this write transaction: its record is deleted, and its file when
   * the transaction commits (open handles then get ENOTFOUND). Errors: ENOTFOUND (not
   * linked in this transaction's view), EMISUSE (read txn).
   */
  unlinkSegment(id: SegmentIdLike): void {
    this.alive();
    const v = toSegmentId(id);
    check(this.d.m, this.d.m._pdbjs_segment_unlink(this.txn, lo32(v), hi32(v)));
  }

  /** The linked segment `id` in this transaction's view, or undefined when not linked. */
  getSegment(id: SegmentIdLike): SegmentInfo | undefined {
    this.alive();
    const v = toSegmentId(id), m = this.d.m;
    const cap = bindModule(m).segInfoBytes + 65536;
    const p = this.d.heap(cap + 16), res = (p + cap + 3) & ~3;
    const rc = m._pdbjs_segment_get(this.txn, lo32(v), hi32(v), p, cap, res);
    if (rc === ErrorCode.ENOTFOUND) return undefined;
    check(m, rc);
    return readInfo(m, p).info;
  }

  /** Every linked segment in this transaction's view, in id order. */
  listSegments(): SegmentInfo[] {
    this.alive();
    const m = this.d.m, all: SegmentInfo[] = [];
    let after = 0n, cap = LIST_CAP;
    for (;;) {
      const p = this.d.heap(cap + 16), res = (p + cap + 3) & ~3;
      check(m, m._pdbjs_segment_list(this.txn, lo32(after), hi32(after), p, cap, res));
      const used = m.HEAP32[res >> 2], count = m.HEAP32[(res >> 2) + 1], more = m.HEAP32[(res >> 2) + 2] === 1,
        need = m.HEAP32[(res >> 2) + 3];
      if (count === 0 && more) {
        cap = Math.max(cap, need);
        continue;
      }
      for (let off = 0; off < used;) {
        const { info, size } = readInfo(m, p + off);
        all.push(info);
        off += size;
        after = info.id;
      }
      if (!more) return all;
    }
  }

  /**
   * Every table in this transaction's view, in name order (manage.ts). Errors:
   * EAUTH/ECORRUPT/EIO reading the catalog, EMISUSE (ended).
   */
  tableList(): RawTableInfo[] {
    this.alive();
    return listTables(this.d.m, this.txn, (n) => this.d.heap(n));
  }

  /**
   * Number of entries in a range of `table` (0 for an absent table); without bounds the
   * catalog's count (no scan). Errors: EINVAL (bad range), EAUTH/ECORRUPT/EIO, EMISUSE.
   */
  count(table: string, r: RangeOptions = {}): number {
    const t = this.table(table, false);
    if (!t) return 0;
    return countRange(this.d.m, t, r, (n) => this.d.heap(n), () => this.tableList().find((i) => i.name === table)?.entries ?? 0);
  }

  /**
   * Drop `table` and free its pages at commit (write transaction). Returns false when it
   * does not exist. Errors: EMISUSE (read or ended transaction), poison codes.
   */
  dropTable(table: string): boolean {
    this.alive();
    this.tables.delete(table); // the handle becomes invalid
    const m = this.d.m, n = m.lengthBytesUTF8(table) + 1, p = this.d.heap(n);
    m.stringToUTF8(table, p, n);
    const rc = m._pagedb_table_drop(this.txn, p);
    if (rc === ErrorCode.ENOTFOUND) return false;
    check(m, rc);
    return true;
  }

  /** Delete every entry of `table`, keeping the (empty) table; false when it does not exist. */
  clearTable(table: string): boolean {
    if (!this.dropTable(table)) return false;
    this.table(table, true);
    return true;
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
