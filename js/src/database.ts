/**
 * database.ts — the promise API shared by the browser (worker endpoint) and Node
 * (in-process endpoint).
 *
 *   const db = await open('notes', { key });
 *   await db.write(async (tx) => { const t = tx.table('notes'); t.put(k, v); t.delete(k2); });
 *   const v = await db.read((tx) => tx.table('notes').get(k));
 *   for await (const [k, v] of db.range('notes', { prefix: 'a' })) { ... }
 *
 * Writes inside `write` are buffered and sent with the commit (one message for a callback
 * that only writes); a read inside `write` first sends the buffered writes, so it sees the
 * transaction's own writes. The callback's promise resolving commits; throwing aborts.
 * Every call goes through an Endpoint that coalesces the calls of one tick into one
 * message (batch.ts); a transaction's begin is not awaited but travels with its first
 * read, and a read transaction's end is queued without being awaited.
 *
 * Segments (pagedb.h "Segments"; FORMAT.md §9):
 *
 *   const seg = await db.segments.create();          // unlinked, open for append
 *   await seg.append(bytes);                          // buffered (1 MiB batches)
 *   await seg.appendStream(response.body!);           // streaming, bounded memory
 *   await seg.seal();                                 // or seg.sync() to make bytes durable
 *   await db.write((tx) => tx.segments.link(seg.id, meta));  // visible, survives reopen
 *   const bytes = await seg.read(offset, length);
 *   await seg.close();
 *   for (const info of await db.segments.list()) ...  // id, realm, length, sealed, meta
 *   await db.segments.delete(id);                     // unlinks (and commits) if linked
 *
 * Segment ids are `bigint` (64-bit; accepted as bigint, safe integer or decimal string).
 * Appends are batched like puts: bytes are gathered in a buffer of up to
 * SEGMENT_BATCH_BYTES and sent when it is full, or with the segment's next read, sync,
 * seal, stat, verify or close — no round trip per small append. Several segments may be
 * written at once (each has its own file; in the browser their operations interleave in
 * the worker). Operations on one Segment run in call order.
 */
import type { ExportSnapshotOptions } from './snapshot_stream.js';
import { PagedbError, ErrorCode } from './errors.js';
import type { Endpoint, OpArgs, OpResults, Op, WriteOp } from './protocol.js';
import {
  toBytes, toSegmentId, type Bytes, type CompactOptions, type MaintenanceProgress, type RangeOptions, type RekeyOptions, type RotateKeysOptions, type SegmentIdLike, type SegmentInfo, type SegmentOpenOptions,
  type Stats, type EngineLocation,
} from './types.js';
import { bytesArg, fnArg, maintOptions, rangeOptions, segmentOpenOptions, tableName, uintArg } from './validate.js';
import { writeContext, type WriteFrame } from './write_context.js';
import { Subscribers, type Change, type SubscribeOptions } from './subscribe.js';
import type { CommitResult } from './protocol.js';
import { estimate, type StorageInfo } from './storage.js';

/** Options of {@link Database.write}. */
export interface WriteOptions {
  /**
   * An idempotency id (a string of 1..255 UTF-8 bytes) recorded in the same transaction as
   * the commit (FORMAT.md §11). A commit whose id is already recorded is not applied: the
   * write rejects with PagedbError EEXIST ("already committed"). Use it to retry a write
   * that rejected with UNKNOWN_OUTCOME (tabs.ts) exactly once.
   */
  idempotencyId?: string;
}

/** An Endpoint that delivers every commit of every context (tabs.ts TabEndpoint). */
interface NotifyingEndpoint extends Endpoint {
  subscribe(f: (c: CommitResult & { gap?: boolean }) => void): () => void;
}

/** A write queued behind another, not started yet; close() may cancel it (see close()). */
interface QueuedWrite {
  cancel(e: PagedbError): void;
  cancelled?: PagedbError;
}
import {
  Table, codecOf, decoded, typedTable, type TableInfo, type TableOptions, type TypedReadTable, type TypedWriteTable,
} from './table.js';

/**
 * Bytes a Segment gathers from append() before sending them to the engine in one message
 * (1 MiB). Appends larger than this are sent in slices of this size.
 */
export const SEGMENT_BATCH_BYTES = 1 << 20;
const FIRST_BUFFER = 64 * 1024;

/** A table inside a read transaction. */
export interface ReadTable {
  /**
   * The value of `key` ({@link Bytes}: copied during the call; strings UTF-8 encoded),
   * or undefined when the key (or the table) is absent. Resolves with a new
   * Uint8Array owned by the caller. Gets issued in one tick reach the engine together, in
   * call order (see {@link Database}). Rejects with PagedbError: EINVAL (key not
   * {@link Bytes}), ETOOBIG (key longer than the engine's maximum), EMISUSE
   * (transaction ended), EAUTH/ECORRUPT/EIO (a damaged page; inside a write, the write
   * transaction is then aborted).
   */
  get(key: Bytes): Promise<Uint8Array | undefined>;
  /**
   * Entries of `range` (all when omitted) in this transaction's view, counted in the
   * engine without transferring them (table.ts TypedReadTable.count). 0 for an absent table.
   */
  count(range?: RangeOptions): Promise<number>;
}

/** A table inside a write transaction. put/delete are buffered (no round trip). */
export interface WriteTable extends ReadTable {
  /**
   * Insert or replace `key` with `value` when the transaction commits (creating the
   * table). Both are {@link Bytes}: strings UTF-8, ArrayBuffers and every ArrayBufferView
   * by their bytes; both are copied now, so the caller may reuse its arrays at once.
   * Throws PagedbError at once: EINVAL (key or value of another type, named in the
   * message), EMISUSE (read transaction, or the transaction has ended). The engine's
   * errors (ETOOBIG key too long, EFULL, EIO...) reject the write.
   */
  put(key: Bytes, value: Bytes): void;
  /** Delete `key` when the transaction commits (absent is fine). Errors as put. */
  delete(key: Bytes): void;
  /** Delete every entry at commit, keeping the (empty) table; absent table: nothing. */
  clear(): void;
}

/** Segments as seen by a transaction (`tx.segments`). */
export interface ReadSegments {
  /**
   * The linked segment `id` in this transaction's view (a write transaction's view
   * includes its own links and unlinks), or undefined when it is not linked.
   * Rejects with PagedbError (EINVAL bad id, EAUTH/ECORRUPT/EIO reading the catalog).
   */
  get(id: SegmentIdLike): Promise<SegmentInfo | undefined>;
  /** Every linked segment in this transaction's view, in id order. */
  list(): Promise<SegmentInfo[]>;
}

/** Segments inside a write transaction: link and unlink are buffered like puts. */
export interface WriteSegments extends ReadSegments {
  /**
   * Link segment `id` into the catalog when the transaction commits, storing `meta`
   * (copied now; strings UTF-8; at most 65536 bytes) beside it; `meta` omitted keeps an
   * existing record's metadata (none for a new link). Linking again after seal() records
   * the sealed state. Errors reject the write (and abort it): ENOTFOUND (no such
   * segment), ETOOBIG (meta); a bad id throws PagedbError EINVAL at once.
   */
  link(id: SegmentIdLike, meta?: Bytes): void;
  /**
   * Unlink segment `id` when the transaction commits; its file is then deleted and open
   * handles on it fail with ENOTFOUND. Errors reject the write: ENOTFOUND (not linked).
   */
  unlink(id: SegmentIdLike): void;
}

/** Argument of {@link Database.read}. */
export interface ReadTxn {
  /**
   * The table `name` (a string of 1..255 UTF-8 bytes without NUL) in this snapshot; an
   * absent table reads as empty. Throws PagedbError EINVAL for a name that is not a string.
   */
  table(name: string): ReadTable;
  /** The table with its codec (`db.table(name, { codec })`). */
  table<T>(table: Table<T>): TypedReadTable<T>;
  /** Every table in this transaction's view, in name order, with counts and sizes. */
  tables(): Promise<TableInfo[]>;
  /**
   * Entries of a range of `name` in this snapshot, in key order (reverse: descending),
   * fetched in batches of up to 256 entries; bounds are copied when iteration starts. Each
   * key and value is a new Uint8Array. `limit: 0` yields nothing. Rejects with PagedbError
   * (EINVAL for a bound that is not {@link Bytes}, a limit that is not a non-negative
   * integer, a non-boolean reverse or an unknown option; EMISUSE after the transaction
   * ended).
   */
  range(name: string, r?: RangeOptions): AsyncIterable<[Uint8Array, Uint8Array]>;
  /** Linked segments in this snapshot. */
  readonly segments: ReadSegments;
}

/** Argument of {@link Database.write}. */
export interface WriteTxn {
  /** The table `name` (created by its first put); names as in {@link ReadTxn.table}. */
  table(name: string): WriteTable;
  table<T>(table: Table<T>): TypedWriteTable<T>;
  tables(): Promise<TableInfo[]>;
  /** Drop table `name` at commit, freeing its pages (absent: nothing). */
  dropTable(name: string): void;
  /** As {@link ReadTxn.range}, seeing this transaction's own writes. */
  range(name: string, r?: RangeOptions): AsyncIterable<[Uint8Array, Uint8Array]>;
  /** Link, unlink, get and list segments in this transaction. */
  readonly segments: WriteSegments;
}

const BATCH = 256;

/**
 * The bytes of a put/delete argument, copied: puts are buffered until the commit (or the
 * next read) is sent, and the caller may reuse its array meanwhile. Throws PagedbError
 * EINVAL naming the argument (see {@link Bytes}).
 */
/** Check write()'s options; the idempotency id or undefined. Throws PagedbError EINVAL. */
function writeOptions(o: unknown): string | undefined {
  if (o === undefined) return undefined;
  if (o === null || typeof o !== 'object') throw new PagedbError(ErrorCode.EINVAL, 'write options must be an object');
  for (const k of Object.keys(o)) if (k !== 'idempotencyId') throw new PagedbError(ErrorCode.EINVAL, `unknown write option "${k}"`);
  const id = (o as WriteOptions).idempotencyId;
  if (id === undefined) return undefined;
  const n = typeof id === 'string' ? new TextEncoder().encode(id).length : 0;
  if (n < 1 || n > 255) throw new PagedbError(ErrorCode.EINVAL, 'options.idempotencyId must be a string of 1..255 UTF-8 bytes');
  return id;
}

function copyArg(b: unknown, what: string): Uint8Array {
  const u = bytesArg(b, what);
  return typeof b === 'string' ? u : u.slice();
}

class Txn implements WriteTxn {
  ops: WriteOp[] = [];
  txn = 0; // number sent with begin, once begun
  ended = false;
  private began: Promise<unknown> | undefined;

  constructor(private ep: Endpoint, readonly write: boolean, private number: () => number) {}

  /**
   * The transaction's number, beginning it on first use. The begin is not awaited: it
   * travels in the same batch as the op that needs it (the worker runs them in order).
   */
  ensure(): number {
    if (this.ended) throw new PagedbError(ErrorCode.EMISUSE, 'transaction has ended');
    if (!this.txn) {
      this.txn = this.number();
      this.began = this.ep.call('begin', { write: this.write, txn: this.txn });
      this.began.catch(() => undefined); // reported by the ops that use the transaction
    }
    return this.txn;
  }

  /** Call op on this transaction: when the begin failed, rejects with the begin's error. */
  call<K extends Op>(op: K, args: OpArgs[K]): Promise<OpResults[K]> {
    const began = this.began;
    return this.ep.call(op, args).catch(async (e) => {
      await began;
      throw e;
    });
  }

  take(): WriteOp[] {
    const o = this.ops;
    this.ops = [];
    return o;
  }

  table(name: string): WriteTable;
  table<T>(table: Table<T>): TypedWriteTable<T>;
  table<T>(nameOrTable: string | Table<T>): WriteTable | TypedWriteTable<T> {
    if (nameOrTable instanceof Table) {
      const t = nameOrTable;
      return typedTable(this.table(t.name), t.codec, (r) => this.range(t.name, r));
    }
    const name = tableName(nameOrTable);
    const raw: WriteTable = {
      count: async (range: RangeOptions = {}) => {
        const txn = this.ensure();
        return (await this.call('count', { txn, table: name, range: rangeOptions(range), ops: this.take() })).count;
      },
      clear: () => {
        if (!this.write) throw new PagedbError(ErrorCode.EMISUSE, 'clear in a read transaction');
        if (this.ended) throw new PagedbError(ErrorCode.EMISUSE, 'transaction has ended');
        this.ops.push([5, name]);
      },
      get: (key: Bytes) => {
        let k: Uint8Array, txn: number;
        try {
          k = bytesArg(key, 'key');
          txn = this.ensure();
        } catch (e) {
          return Promise.reject(e);
        }
        return this.call('get', { txn, table: name, key: k, ops: this.take() }).then((r) => r.value);
      },
      put: (key: Bytes, value: Bytes) => {
        if (!this.write) throw new PagedbError(ErrorCode.EMISUSE, 'put in a read transaction');
        if (this.ended) throw new PagedbError(ErrorCode.EMISUSE, 'transaction has ended');
        this.ops.push([0, name, copyArg(key, 'key'), copyArg(value, 'value')]);
      },
      delete: (key: Bytes) => {
        if (!this.write) throw new PagedbError(ErrorCode.EMISUSE, 'delete in a read transaction');
        if (this.ended) throw new PagedbError(ErrorCode.EMISUSE, 'transaction has ended');
        this.ops.push([1, name, copyArg(key, 'key')]);
      },
    };
    return raw;
  }

  async tables(): Promise<TableInfo[]> {
    const txn = this.ensure();
    return (await this.call('tables', { txn, ops: this.take() })).tables;
  }

  dropTable(name: string): void {
    if (!this.write) throw new PagedbError(ErrorCode.EMISUSE, 'dropTable in a read transaction');
    if (this.ended) throw new PagedbError(ErrorCode.EMISUSE, 'transaction has ended');
    this.ops.push([4, tableName(name)]);
  }

  get segments(): WriteSegments {
    const writable = (what: string): void => {
      if (!this.write) throw new PagedbError(ErrorCode.EMISUSE, `${what} in a read transaction`);
      if (this.ended) throw new PagedbError(ErrorCode.EMISUSE, 'transaction has ended');
    };
    return {
      get: async (id: SegmentIdLike) => {
        const v = toSegmentId(id);
        const txn = this.ensure();
        return (await this.call('segGet', { txn, id: v, ops: this.take() })).info;
      },
      list: async () => {
        const txn = this.ensure();
        return (await this.call('segList', { txn, ops: this.take() })).segments;
      },
      link: (id: SegmentIdLike, meta?: Bytes) => {
        writable('segments.link');
        this.ops.push([2, toSegmentId(id), meta === undefined ? null : copyArg(meta, 'meta')]);
      },
      unlink: (id: SegmentIdLike) => {
        writable('segments.unlink');
        this.ops.push([3, toSegmentId(id)]);
      },
    };
  }

  async *range(name: string, r?: RangeOptions): AsyncGenerator<[Uint8Array, Uint8Array]> {
    tableName(name);
    let cur: RangeOptions = rangeOptions(r);
    let left = cur.limit ?? Infinity;
    if (left === 0) {
      this.ensure(); // still EMISUSE after the transaction ended
      return;
    }
    for (;;) {
      const txn = this.ensure();
      const res = await this.call('scan', { txn, table: name, range: cur, max: BATCH, ops: this.take() });
      for (const e of res.entries) yield e;
      left -= res.entries.length;
      if (!res.more || left <= 0 || res.entries.length === 0) return;
      const last = res.entries[res.entries.length - 1][0];
      cur = { ...cur, limit: Number.isFinite(left) ? left : undefined };
      if (cur.reverse) cur.lt = last;
      else {
        const s = new Uint8Array(last.length + 1);
        s.set(last);
        cur.gte = s;
      }
    }
  }
}


/**
 * An open segment (promise API). Obtained from `db.segments.create()` (open for append) or
 * `db.segments.open()`. Methods may be called without awaiting the previous one: they run
 * in call order. Every rejection is a PagedbError; after close() every method rejects
 * with EMISUSE. Thread-safety: belongs to its Database (one event loop).
 */
export class Segment {
  /** Segment id (64-bit, assigned by pagedb). */
  readonly id: bigint;
  /** True when opened for append (by create(), or open() with `append`). */
  readonly appendable: boolean;
  private known: number;
  private sealedNow: boolean;
  private buf: Uint8Array | undefined;
  private fill = 0;
  private q: Promise<unknown> = Promise.resolve();
  private isClosed = false;

  /** @internal */
  constructor(private ep: Endpoint, private seg: number, id: bigint, appendable: boolean, info: SegmentInfo | undefined,
    private forget: (s: Segment) => void) {
    this.id = id;
    this.appendable = appendable;
    this.known = info?.length ?? 0;
    this.sealedNow = info?.sealed ?? false;
  }

  /**
   * Length in bytes as known to this object: the length at open plus every byte appended
   * through it (including bytes still buffered). Another handle's appends are not counted:
   * use stat() for the engine's view.
   */
  get length(): number {
    return this.known;
  }

  /** True once sealed (by seal() through this object, or already sealed when opened). */
  get sealed(): boolean {
    return this.sealedNow;
  }

  /** True after close() was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Run f after every earlier operation on this segment (errors do not break the chain). */
  private run<T>(f: () => Promise<T>): Promise<T> {
    const p = this.q.then(f);
    this.q = p.catch(() => undefined);
    return p;
  }

  private usable(): PagedbError | undefined {
    if (this.isClosed) return new PagedbError(ErrorCode.EMISUSE, `segment ${this.id} is closed`);
    return undefined;
  }

  /** The buffered bytes, handed over (the buffer is transferred, a new one is made later). */
  private take(): { data: Uint8Array[]; transfer: ArrayBuffer[] } {
    if (!this.buf || this.fill === 0) return { data: [], transfer: [] };
    const b = this.buf;
    const data = [b.subarray(0, this.fill)];
    this.buf = undefined;
    this.fill = 0;
    return { data, transfer: [b.buffer as ArrayBuffer] };
  }

  private async send(): Promise<void> {
    const { data, transfer } = this.take();
    if (data.length) await this.ep.call('segAppend', { seg: this.seg, data }, transfer);
  }

  /**
   * Append `bytes` (strings UTF-8 encoded) to the end of the segment. The bytes are copied
   * into this segment's buffer and sent to the engine when SEGMENT_BATCH_BYTES have
   * gathered (or with the next read, sync, seal, stat, verify or close); larger appends
   * are sent in slices of that size. Resolves once the bytes are buffered or sent; an
   * engine error on a batch rejects the call that sent it. Ownership: `bytes` is read
   * until the returned promise resolves (do not modify it before). Durable only after
   * sync() or seal(). Rejects: ESEALED (sealed), EMISUSE (not appendable, closed),
   * EIO/EFULL (the segment's handle is poisoned), ENOTFOUND (unlinked meanwhile).
   */
  append(bytes: Bytes): Promise<void> {
    const bad = this.usable() ??
      (!this.appendable ? new PagedbError(ErrorCode.EMISUSE, `segment ${this.id} is not open for append`) : undefined) ??
      (this.sealedNow ? new PagedbError(ErrorCode.ESEALED, `segment ${this.id} is sealed`) : undefined);
    if (bad) return Promise.reject(bad);
    let b: Uint8Array;
    try {
      b = toBytes(bytes, 'bytes');
    } catch (e) {
      return Promise.reject(e);
    }
    this.known += b.length;
    return this.run(async () => {
      // sealed by a seal() called before this append but not yet finished when it was called
      if (this.sealedNow) throw new PagedbError(ErrorCode.ESEALED, `segment ${this.id} is sealed`);
      let off = 0;
      while (off < b.length) {
        if (this.fill === 0 && b.length - off >= SEGMENT_BATCH_BYTES) {
          // a whole batch from the caller's array: copied (a view would make postMessage
          // clone the caller's entire buffer) and the copy transferred
          const part = b.slice(off, off + SEGMENT_BATCH_BYTES);
          await this.ep.call('segAppend', { seg: this.seg, data: [part] }, [part.buffer]);
          off += SEGMENT_BATCH_BYTES;
          continue;
        }
        const want = Math.min(SEGMENT_BATCH_BYTES, this.fill + (b.length - off));
        if (!this.buf || this.buf.length < want) {
          const nb = new Uint8Array(Math.min(SEGMENT_BATCH_BYTES, Math.max(FIRST_BUFFER, want, (this.buf?.length ?? 0) * 2)));
          if (this.buf) nb.set(this.buf.subarray(0, this.fill));
          this.buf = nb;
        }
        const n = Math.min(b.length - off, SEGMENT_BATCH_BYTES - this.fill);
        this.buf.set(b.subarray(off, off + n), this.fill);
        this.fill += n;
        off += n;
        if (this.fill === SEGMENT_BATCH_BYTES) await this.send();
      }
    });
  }

  /**
   * Append everything `source` yields, in order, with bounded memory: each chunk is
   * appended (and awaited) before the next is read, so at most one chunk plus one batch
   * (SEGMENT_BATCH_BYTES) is held. Accepts a ReadableStream of Uint8Array (e.g. a fetch
   * response body or a File's stream()) or any (async) iterable of Uint8Array. Resolves
   * with the number of bytes appended. On an error the stream is cancelled and the call
   * rejects (bytes appended before the error stay appended); same errors as append().
   */
  async appendStream(source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number> {
    let total = 0;
    if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function') {
      const reader = (source as ReadableStream<Uint8Array>).getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          await this.append(value);
          total += value.length;
        }
      } catch (e) {
        await reader.cancel(e).catch(() => undefined);
        throw e;
      } finally {
        reader.releaseLock();
      }
      return total;
    }
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      await this.append(chunk);
      total += chunk.length;
    }
    return total;
  }

  /**
   * Read `length` bytes at byte `offset` (non-negative integers; the range must lie inside
   * the segment, buffered appends included — they are sent first). Every page is
   * authenticated first. Resolves with a new Uint8Array owned by the caller. Rejects:
   * EINVAL (range beyond the end), EAUTH/ECORRUPT (a damaged page: no byte of it is
   * returned), ENOTFOUND (unlinked), EIO, EMISUSE (closed).
   */
  read(offset: number, length: number): Promise<Uint8Array> {
    const bad = this.usable();
    if (bad) return Promise.reject(bad);
    try {
      uintArg(offset, 'offset');
      uintArg(length, 'length');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.run(async () => {
      const { data, transfer } = this.take();
      return (await this.ep.call('segRead', { seg: this.seg, data, offset, length }, transfer)).bytes;
    });
  }

  /**
   * Send buffered appends and make every appended byte durable (pagedb_segment_sync). A
   * no-op for a read-only handle. Rejects: EIO/EFULL (poisoned), ENOTFOUND, EMISUSE.
   */
  sync(): Promise<void> {
    const bad = this.usable();
    if (bad) return Promise.reject(bad);
    return this.run(async () => {
      const { data, transfer } = this.take();
      await this.ep.call('segSync', { seg: this.seg, data }, transfer);
    });
  }

  /**
   * Send buffered appends and seal: the segment becomes immutable (footer with length,
   * page count and root hash; durable when this resolves) and stays open for reading.
   * Link it again (`tx.segments.link(id)`) to record the sealed state in the catalog.
   * Resolves with the sealed segment's description. Rejects: ESEALED (already sealed),
   * EMISUSE (not appendable, closed), EIO/EFULL, ENOTFOUND.
   */
  seal(): Promise<SegmentInfo> {
    const bad = this.usable() ?? (this.sealedNow ? new PagedbError(ErrorCode.ESEALED, `segment ${this.id} is sealed`) : undefined);
    if (bad) return Promise.reject(bad);
    return this.run(async () => {
      const { data, transfer } = this.take();
      const { info } = await this.ep.call('segSeal', { seg: this.seg, data }, transfer);
      this.sealedNow = true;
      return info;
    });
  }

  /** Send buffered appends, then describe the segment as this handle sees it (meta empty). */
  stat(): Promise<SegmentInfo> {
    const bad = this.usable();
    if (bad) return Promise.reject(bad);
    return this.run(async () => {
      const { data, transfer } = this.take();
      return (await this.ep.call('segStat', { seg: this.seg, data }, transfer)).info;
    });
  }

  /**
   * Send buffered appends, then authenticate every page on disk (sealed: also the root and
   * footer). Resolves with the number of pages checked. Rejects EAUTH/ECORRUPT naming the
   * first bad page.
   */
  verify(): Promise<number> {
    const bad = this.usable();
    if (bad) return Promise.reject(bad);
    return this.run(async () => {
      const { data, transfer } = this.take();
      return (await this.ep.call('segVerify', { seg: this.seg, data }, transfer)).pages;
    });
  }

  /**
   * Send buffered appends and close the handle (an append handle writes its partial last
   * page; no sync — call sync() or seal() for durability). The handle is released even if
   * this rejects (EIO/EFULL, or a poisoned handle's code). Idempotent.
   */
  close(): Promise<void> {
    if (this.isClosed) return this.q.then(() => undefined);
    this.isClosed = true;
    return this.run(async () => {
      try {
        const { data, transfer } = this.take();
        await this.ep.call('segClose', { seg: this.seg, data }, transfer);
      } finally {
        this.forget(this);
      }
    });
  }
}

/** `db.segments`: create, open, list, get and delete segments. */
export interface Segments {
  /**
   * Create an empty segment in realm `realm` (default 0, the default realm) and open it
   * for append. It is not visible to other handles, and is deleted at the next open,
   * until a write transaction links it (`tx.segments.link(seg.id)`). Rejects: ENOTFOUND
   * (no such realm), EMISUSE (read-only or closed database), EIO/EFULL (creating the file).
   */
  create(realm?: number): Promise<Segment>;
  /**
   * Open segment `id` (linked, or created by this database handle and not deleted): for
   * reading, or with `{ append: true }` for appending. `{ verify: true }` authenticates
   * every page of a sealed segment against its root first. Rejects: ENOTFOUND, ESEALED
   * (append on a sealed segment), EBUSY (another append handle is open on it),
   * EAUTH/ECORRUPT (damaged footer or pages), EINVAL (bad id).
   */
  open(id: SegmentIdLike, options?: SegmentOpenOptions): Promise<Segment>;
  /** Every linked segment (latest committed state), in id order, with its metadata. */
  list(): Promise<SegmentInfo[]>;
  /** The linked segment `id` (latest committed state), or undefined. */
  get(id: SegmentIdLike): Promise<SegmentInfo | undefined>;
  /**
   * Delete segment `id`. A linked segment is unlinked by a write transaction of its own
   * (queued after pending writes) and its file deleted when it commits; an unlinked one
   * (created and never linked) is deleted at once. Rejects: ENOTFOUND, EBUSY (an unlinked
   * segment with an open handle: close it first), EMISUSE.
   */
  delete(id: SegmentIdLike): Promise<void>;
}

/**
 * An open database. Methods may be called concurrently; writes are serialised.
 *
 * Calls issued in the same tick are coalesced: they are queued and reach the engine as
 * one message at the end of the tick (at most 256 requests or about 1 MiB of keys and
 * values per message; protocol.ts), are run in call order, and each settles on its own
 * — an error rejects only its own call. So issuing many gets
 * or ranges before awaiting them (`Promise.all(keys.map((k) => t.get(k)))`) costs one
 * message each way per batch instead of a round trip per call. Ordering is the call
 * order: a get inside a write sees the writes issued before it, writes run one after
 * another, and a read started after a write resolved sees it. Thread-safety: use a
 * Database from the event loop that opened it.
 */
export class Database {
  private closed = false;
  private closing: Promise<void> | undefined;
  private writeChain: Promise<unknown> = Promise.resolve();
  private waiting = new Set<QueuedWrite>();
  private runningWrites = 0;
  private openSegments = new Set<Segment>();
  private txnNumber = 0;
  private readonly nextTxn = (): number => ++this.txnNumber;

  /** Segments of this database: create, open, list, get, delete (see {@link Segments}). */
  readonly segments: Segments;

  /**
   * Where this Database's calls run now ({@link EngineLocation}): 'this-thread' under Node
   * and in a dedicated worker that owns the database (no message hop per call), 'worker'
   * in a tab that owns it, 'owner' in a context served by another one, 'snapshot' in a
   * service worker reading a snapshot, 'none' while there is no backend (electing an
   * owner, suspended, closed). It changes on failover. Never throws.
   */
  get engineLocation(): EngineLocation {
    return (this.ep as { engineLocation?: EngineLocation }).engineLocation ?? 'this-thread';
  }

  /** @internal */
  constructor(private ep: Endpoint, private onClose?: () => void) {
    const forget = (s: Segment) => this.openSegments.delete(s);
    const track = (s: Segment) => {
      this.openSegments.add(s);
      return s;
    };
    this.segments = {
      create: async (realm = 0) => {
        this.alive();
        uintArg(realm, 'realm', 0xffffffff);
        const r = await this.ep.call('segCreate', { realm });
        return track(new Segment(this.ep, r.seg, r.id, true, undefined, forget));
      },
      open: async (id, opts) => {
        this.alive();
        const v = toSegmentId(id);
        const o = segmentOpenOptions(opts);
        const r = await this.ep.call('segOpen', { id: v, append: !!o.append, verify: !!o.verify });
        return track(new Segment(this.ep, r.seg, v, !!o.append, r.info, forget));
      },
      list: async () => {
        this.alive();
        return (await this.ep.call('segList', { txn: 0, ops: [] })).segments;
      },
      get: (id) => this.read((tx) => tx.segments.get(id)),
      delete: (id) => {
        let v: bigint;
        try {
          this.writable('db.segments.delete');
          v = toSegmentId(id);
        } catch (e) {
          return Promise.reject(e);
        }
        // queued with the writes: unlinking a linked segment takes the write transaction
        return this.enqueue(async () => {
          const done = await this.ep.call('segDelete', { id: v });
          if (done && !this.notifying()) this.subs.emit(done);
        });
      },
    };
  }

  private alive(): void {
    if (this.closed) throw new PagedbError(ErrorCode.EMISUSE, 'database is closed');
  }

  /** Throw EMISUSE when `what` (a queued write) cannot be accepted now. */
  private writable(what: string): void {
    if (this.closed || this.closing) throw new PagedbError(ErrorCode.EMISUSE, 'database is closed');
    if (writeContext().inside(this))
      throw new PagedbError(ErrorCode.EMISUSE,
        `${what} called inside a db.write callback: it would wait for the running write, which waits for it; ` +
        'use the callback\'s tx, or call it after the write resolves');
  }

  /**
   * Queue `job` behind every earlier write; it starts when they have settled. Until it
   * starts, close() may cancel it (rejecting the returned promise at once; see close()).
   */
  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    let cancel!: (e: PagedbError) => void;
    const cancelled = new Promise<never>((_, reject) => {
      cancel = reject;
    });
    const q: QueuedWrite = {
      cancel: (e) => {
        q.cancelled = e;
        cancel(e);
      },
    };
    this.waiting.add(q);
    const run = async (): Promise<T> => {
      this.waiting.delete(q);
      if (q.cancelled) throw q.cancelled;
      this.runningWrites++;
      try {
        return await job();
      } finally {
        this.runningWrites--;
      }
    };
    const p = this.writeChain.then(run, run);
    this.writeChain = p.catch(() => undefined);
    return Promise.race([p, cancelled]);
  }

  /**
   * Run fn in a write transaction: commits (durably) when fn's result resolves, aborts when
   * it throws (the error is re-thrown). Resolves with fn's result. Write transactions are
   * queued so only one runs at a time. Errors reject with PagedbError (or whatever fn
   * throws): EINVAL (fn not a function, bad options), EMISUSE (database closed or closing;
   * or called inside a write callback of this database — see below), EEXIST (`options.
   * idempotencyId` already committed: nothing applied), UNKNOWN_OUTCOME (browsers: the tab
   * owning the database went away while the commit was in flight — it may or may not have
   * committed; retry with an idempotency id, tabs.ts), and the engine's errors.
   *
   * Nesting: a write callback must not call db.write, db.close or db.segments.delete of
   * the same database (they would wait for the running write, which waits for them); use
   * its `tx` instead. Such a call rejects at once with EMISUSE — under Node anywhere in the
   * callback's asynchronous continuation (AsyncLocalStorage), in browsers (no async
   * context yet) when made before the callback's first await. A nested write made after
   * an await in a browser waits; close() then cancels it (see close()), so nothing hangs
   * past close().
   */
  write<T>(fn: (tx: WriteTxn) => T | Promise<T>, options?: WriteOptions): Promise<T> {
    let idem: string | undefined;
    try {
      this.writable('db.write');
      fnArg(fn, 'db.write callback');
      idem = writeOptions(options);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(async (): Promise<T> => {
      const tx = new Txn(this.ep, true, this.nextTxn);
      const frame: WriteFrame = { db: this, done: false };
      let result: T;
      try {
        result = await writeContext().run(frame, () => fn(tx));
      } catch (e) {
        frame.done = true;
        tx.ended = true;
        if (tx.txn) await this.ep.call('abort', { txn: tx.txn }).catch(() => undefined);
        throw e;
      }
      frame.done = true;
      tx.ended = true;
      const extra = idem === undefined ? {} : { idem };
      let done: CommitResult | undefined;
      if (tx.txn) done = await tx.call('commit', { txn: tx.txn, ops: tx.take(), ...extra });
      else if (tx.ops.length || idem !== undefined) done = await this.ep.call('writeBatch', { ops: tx.take(), ...extra });
      if (done && !this.notifying()) this.subs.emit(done);
      return result;
    });
  }

  private subs = new Subscribers();
  private unhook: (() => void) | undefined;

  /** True when the endpoint reports every context's commits (browsers: tabs.ts). */
  private notifying(): boolean {
    return typeof (this.ep as Partial<NotifyingEndpoint>).subscribe === 'function';
  }

  /**
   * Call `listener` after every durable commit to this database with a {@link Change}:
   * txn id, changed tables (name, realm, keys) and whether segments were linked or
   * unlinked. In browsers it fires in every tab and the service worker that has the
   * database open, once per commit each, for commits made anywhere; under Node for the
   * commits of this Database. `options` narrows it to one table and optionally a key range
   * ({@link SubscribeOptions}; subscribe.ts says how ranges match). Returns the
   * unsubscribe function (idempotent); close() removes every listener, and a closed tab's
   * listeners go with it. A listener's exception does not stop the others (it is
   * re-thrown asynchronously). Throws PagedbError EINVAL (listener not a function, bad
   * options), EMISUSE (closed).
   */
  subscribe(listener: (change: Change) => void, options?: SubscribeOptions): () => void {
    this.alive();
    const off = this.subs.add(listener, options);
    if (!this.unhook && this.notifying()) this.unhook = (this.ep as NotifyingEndpoint).subscribe((c) => this.subs.emit(c));
    return () => {
      off();
      if (this.subs.size === 0 && this.unhook) {
        this.unhook();
        this.unhook = undefined;
      }
    };
  }

  /**
   * Run fn in a read-only snapshot transaction; resolves with fn's result. The snapshot is
   * taken when fn first reads; its end is queued behind fn's reads without being awaited
   * (it cannot fail). Errors reject with PagedbError (or whatever fn throws).
   */
  async read<T>(fn: (tx: ReadTxn) => T | Promise<T>): Promise<T> {
    this.alive();
    fnArg(fn, 'db.read callback');
    const tx = new Txn(this.ep, false, this.nextTxn);
    try {
      return await fn(tx);
    } finally {
      this.endRead(tx);
    }
  }

  /** End a read transaction: queued after its reads, not awaited (a failure changes nothing). */
  private endRead(tx: Txn): void {
    tx.ended = true;
    if (tx.txn) this.ep.call('abort', { txn: tx.txn }).catch(() => undefined);
  }

  /**
   * Iterate a range of table `name` on one snapshot (ended when iteration stops). Entries
   * come in batches of up to 256 per message; each key and value is a new Uint8Array.
   * Rejects with PagedbError (EINVAL for a bound that is neither a Uint8Array nor a string).
   */
  async *range(name: string, r?: RangeOptions): AsyncGenerator<[Uint8Array, Uint8Array]> {
    this.alive();
    tableName(name);
    r = rangeOptions(r);
    const tx = new Txn(this.ep, false, this.nextTxn);
    try {
      yield* tx.range(name, r);
    } finally {
      this.endRead(tx);
    }
  }

  /**
   * A named table with a value codec (table.ts): `db.table<Note>('notes', { codec: 'json' })`.
   * Holds no resources. Throws PagedbError EINVAL for an unknown codec.
   */
  table<T = Uint8Array>(name: string, options?: TableOptions<T>): Table<T> {
    return new Table<T>(this, name, options);
  }

  /**
   * Every table (latest committed state) in name order: name, realm, entries, pages, bytes
   * (pages x page size) and depth. Rejects with PagedbError (EMISUSE closed,
   * EAUTH/ECORRUPT/EIO reading the catalog).
   */
  async tables(): Promise<TableInfo[]> {
    this.alive();
    return (await this.ep.call('tables', { txn: 0, ops: [] })).tables;
  }

  /**
   * Drop table `name` and free its pages, in a write transaction queued with the others.
   * Resolves true when it existed, false otherwise. Rejects with PagedbError (EMISUSE
   * closed or read-only, EIO/EFULL committing).
   */
  dropTable(name: string): Promise<boolean> {
    return this.write(async (tx) => {
      const existed = (await tx.tables()).some((t) => t.name === name);
      if (existed) tx.dropTable(name);
      return existed;
    });
  }

  /**
   * `for await (const [key, value] of db.iterate(table, range))`: the entries of a range
   * on one snapshot, fetched in batches as the loop consumes them, values decoded with the
   * table's codec (a table name: raw bytes). The snapshot is held until the loop ends
   * (break, return and throw included). See table.ts.
   */
  iterate<T = Uint8Array>(table: string | Table<T>, range: RangeOptions = {}): AsyncGenerator<[Uint8Array, T]> {
    const name = typeof table === 'string' ? table : table.name;
    return decoded(this.range(name, range), codecOf(table));
  }

  /** Counters: cache hits/misses/evictions, bytes read/written, pages, txn id. */
  async stat(): Promise<Stats> {
    this.alive();
    return this.ep.call('stat', {});
  }

  /**
   * Storage figures: the origin's usage, quota and persistence (navigator.storage
   * estimate() and persisted(); undefined under Node) and this database's main file and
   * segment bytes (storage.ts StorageInfo). Rejects with PagedbError (EMISUSE closed, the
   * engine's read errors).
   */
  async storage(): Promise<StorageInfo> {
    this.alive();
    const [st, segs, est] = await Promise.all([this.stat(), this.segments.list(), estimate()]);
    return { ...est, mainBytes: st.fileBytes, segmentBytes: segs.reduce((n, s) => n + s.length, 0), segments: segs.length };
  }

  /**
   * A snapshot stream of this database (pagedb.h pagedb_snapshot_export, docs/FORMAT.md
   * §14): `since` absent or 0 = full (every page of the current snapshot), else the txn id
   * of an earlier stream's target = incremental (pages written after it). Pages travel as
   * they are on disk, still encrypted. The stream is pull-based: each read asks the engine
   * for the next chunk (1 MiB) from one live exporter that keeps its place between reads
   * (pagedb_snapshot_exporter), so the whole stream is never in memory and each page is
   * read once; in the browser chunks cross from the worker as transferred
   * ArrayBuffers. The snapshot of the first read is pinned until the stream ends, is
   * cancelled or `signal` aborts; writers may commit meanwhile (the file may grow). Restore
   * with importSnapshot. `rate` (bytes/s) throttles the stream: each chunk is handed out
   * in pieces of rate/8 bytes, each when due at the rate (see ExportSnapshotOptions).
   * Closing the database ends the export (the stream then errors with EMISUSE).
   * The stream errors with PagedbError: ECANCELED (signal aborted; a reader's cancel() ends
   * the export the same way), EINVAL (since not a txn id, or above the current one; rate
   * not a number >= 0),
   * EMISUSE (database closed, or the owning tab changed hands during the export: start
   * again), EBUSY (no reader slot), EAUTH/ECORRUPT/EIO (reading pages), ENOMEM.
   * exportSnapshot itself never throws: every error arrives through the stream.
   * Thread-safety: as other Database methods.
   */
  exportSnapshot(options: ExportSnapshotOptions = {}): ReadableStream<Uint8Array> {
    const src = Promise.resolve().then(() => {
      this.alive();
      return import('./snapshot_stream.js');
    }).then((m) => m.exportSource(this.ep, options));
    return new ReadableStream<Uint8Array>({
      start: async (c) => (await src).start(c),
      pull: async (c) => (await src).pull(c),
      cancel: async (r) => (await src).cancel(r),
    }, { highWaterMark: 0 });
  }

  /**
   * Compact main.pdb online (pagedb.h pagedb_compact, docs/FORMAT.md §12): live pages near
   * the end of the file move into free pages nearer the start, adjacent leaves are packed,
   * then the file is truncated, so space freed by deletes goes back to the file system.
   * Runs as a sequence of steps, each one write transaction queued with the other writes
   * (writes and reads keep working between steps; reads never wait). Pages a read
   * transaction open meanwhile can still see are not reused, so under long readers the
   * shrink is partial (the result's pageCount tells). Resolves with the progress at the
   * end (done: true); returns at once when the file is already near its target.
   * Options ({@link CompactOptions}): `rate` bytes/s throttle, `pagesPerStep`,
   * `busyTimeout` ms, `signal`, `onProgress` after every step.
   * The module: the engine's first-load module has no compaction code; the first step
   * loads the full module (dist/pagedb-full.wasm, about 73 kB gzip, once per open
   * database, lazily: never at page load; shared with {@link rotateKeys}) and switches the
   * open database to it, which needs the database idle (no transaction, segment handle or
   * snapshot export open in any tab): while some are open the step answers EBUSY and is
   * retried every 50 ms up to `busyTimeout` (default 5000 ms). The switch reopens the
   * database there with the credential it opens with now (a passphrase costs one more
   * Argon2id derivation); it is then served by the full module until it closes. A
   * database compacted in the full module (or left mid-compaction) opens and works in
   * the first-load module as any other.
   * Cancellation: aborting `signal` stops between two steps (a running step completes);
   * the call rejects with ECANCELED, the database stays consistent with every step so far
   * committed, and the next compact() resumes where this one stopped (the cursor is stored
   * in the database, also across a crash or a reopen).
   * Rejects with PagedbError: EINVAL (bad option), EMISUSE (closed, read-only, or called
   * inside a db.write callback), ECANCELED (aborted), EBUSY (still busy after
   * busyTimeout: open transactions/segment handles/exports prevent the switch to the full
   * module), EIO/EFULL/ENOMEM (a step failed and was rolled back, earlier steps stay; or
   * the full module could not be loaded), EKEY (the switch's reopen: another handle
   * changed the key meanwhile), EAUTH/ECORRUPT (a damaged page), or what onProgress
   * threw. In browsers, a step in flight when the owning tab went away is simply run again
   * by the next owner.
   * Thread-safety: as other Database methods.
   */
  async compact(options: CompactOptions = {}): Promise<MaintenanceProgress> {
    this.writable('db.compact');
    const o = maintOptions<CompactOptions>(options, ['rate', 'pagesPerStep', 'busyTimeout']);
    const rate = uintArg(o.rate ?? 0, 'options.rate');
    const pagesPerStep = uintArg(o.pagesPerStep ?? 0, 'options.pagesPerStep', 0x7fffffff);
    const busyTimeout = uintArg(o.busyTimeout ?? 5000, 'options.busyTimeout');
    return (await import('./rotate_client.js')).runSteps(this, 'compactStep', { pagesPerStep }, o, rate, busyTimeout, 'compaction');
  }

  /**
   * Change the database's key-encryption key (pagedb.h pagedb_rekey, docs/FORMAT.md §13.1):
   * afterwards only `newKey` (32 bytes) or `newPassphrase` opens it — this Database keeps
   * working, and the old key or passphrase gets PagedbError EKEY at open. Only the wrap of
   * the data key changes (two commits, queued with the writes; no page is rewritten), so it
   * takes the time of two commits plus the Argon2id derivations of a passphrase. The
   * current credential is the one this Database was opened with. A crash before the first
   * commit is durable leaves the old key valid, after it the new one. A backup taken
   * before still opens with the old key. In browsers the other tabs that have this
   * database open keep working through the owning tab, but must open again with the new
   * key after the owner changes (they cannot open the files with the old one).
   * Options ({@link RekeyOptions}): exactly one of newKey / newPassphrase, Argon2id limits,
   * `signal` (checked before the change starts: ECANCELED, nothing changed), `onProgress`
   * (once, when durable).
   * Rejects with PagedbError: EINVAL (neither or both new credentials, a key that is not 32
   * bytes, an empty passphrase, limits out of range, unknown option), EMISUSE (closed,
   * read-only, or inside a db.write callback), ECANCELED (aborted before it started), EKEY
   * (the credential this Database holds no longer unwraps the data key: another handle
   * changed it), EBUSY (another handle changed the key meanwhile), EIO/EFULL/ENOMEM (a
   * commit failed; see the crash rule above), UNKNOWN_OUTCOME (browsers: the owning tab
   * went away during the change — try opening with each key).
   */
  async rekey(options: RekeyOptions): Promise<void> {
    this.writable('db.rekey');
    const o = maintOptions<RekeyOptions>(options, ['newKey', 'newPassphrase', 'pwhashOpsLimit', 'pwhashMemLimit']);
    const args: OpArgs['rekey'] = { newKey: o.newKey instanceof Uint8Array ? o.newKey.slice() : o.newKey, newPassphrase: o.newPassphrase,
      pwhashOpsLimit: o.pwhashOpsLimit, pwhashMemLimit: o.pwhashMemLimit };
    await this.enqueue(async () => {
      if (o.signal?.aborted) throw new PagedbError(ErrorCode.ECANCELED, 'key change aborted before it started');
      await this.ep.call('rekey', args);
    });
    const st = await this.stat();
    o.onProgress?.({ phase: 0, pagesDone: 0, pagesTotal: 0, bytesWritten: 0, steps: 2, pageCount: st.pageCount,
      targetPages: 0, done: true });
  }

  /**
   * Rotate data keys online (pagedb.h pagedb_rekey with no new KEK, docs/FORMAT.md §13.3):
   * the realm (or every realm) enters a new key epoch — new writes use the new key at once —
   * and every page of the old epoch is re-sealed with it (tables, overflow runs, the
   * catalog and freelist for realm 0, the realm's segment files), free pages still holding
   * old-epoch bytes are overwritten with zeros, and the old key is destroyed. Afterwards no
   * page of the database is readable with the old data key. The key-encryption key (the
   * key or passphrase the database opens with) does not change: see {@link rekey}. Realm
   * 0's page key is derived from the database's root key DEK0, which this does not
   * replace: keep data whose key must be retirable after a leak in a realm >= 1.
   * Runs as a sequence of steps, each one write transaction queued with the other writes
   * (reads and writes of every tab keep working between steps; readers keep their
   * snapshots). Resolves with the progress at the end (done: true). Cost: every page of
   * the rotated realms is rewritten once (plus parent paths), every free page read once.
   * Options ({@link RotateKeysOptions}): `realm` (id or 'all', default 'all'), `rate`
   * bytes/s throttle, `pagesPerStep`, `busyTimeout` ms, `signal`, `onProgress`.
   * The module: the engine's first-load module has no rotation code; the first step
   * loads the full module (dist/pagedb-full.wasm, about 73 kB gzip, once per open
   * database, lazily: never at page load) and switches the open database to it, which
   * needs the database idle (no transaction, segment handle or snapshot export open in
   * any tab; retried up to `busyTimeout`), and reopens it there with the credential it
   * opens with now (a passphrase costs one more Argon2id derivation). The database is then
   * served by the full module until it closes.
   * Cancellation and crashes: aborting `signal` stops between two steps; the call rejects
   * with ECANCELED and the next rotateKeys (of this or a later handle, also the native CLI
   * `pagedb rekey`) resumes from the rotation record stored in the database. A database
   * left in the middle of a rotation whose realms have segments must be finished before
   * the first-load module reads those segments (it refuses them with ENOTSUP there):
   * call rotateKeys again.
   * Browsers (OPFS): a segment file is re-sealed into a copy that is then moved over it.
   * OPFS moves files only asynchronously (FileSystemHandle.move()), so the step that
   * switches a segment to its copy closes the database (which needs it idle: no
   * transaction, segment handle or export open in any tab, else EBUSY after busyTimeout),
   * moves the file and opens the database again (docs/FORMAT.md §13.3 "OPFS").
   * Rejects with PagedbError: EINVAL (bad option), EMISUSE (closed, read-only, or inside a
   * db.write callback), ECANCELED (aborted), EBUSY (still busy after busyTimeout: open
   * transactions/segment handles/exports prevent the switch, a segment of a rotated realm
   * is open for append, or old snapshots keep the old key), ENOTFOUND (no such realm),
   * ENOTSUP (a storage without rename), EFULL (2^32-1 epochs, or the disk), EIO/ENOMEM (a step failed
   * and was rolled back; or the full module could not be loaded), EAUTH/ECORRUPT (a damaged
   * page, record or segment), or what onProgress threw. In browsers, a step in flight when
   * the owning tab went away is run again by the next owner.
   * Thread-safety: as other Database methods; run one rotation at a time per database.
   */
  async rotateKeys(options: RotateKeysOptions = {}): Promise<MaintenanceProgress> {
    this.writable('db.rotateKeys');
    const o = maintOptions<RotateKeysOptions>(options, ['realm', 'rate', 'pagesPerStep', 'busyTimeout']);
    const realm = o.realm === undefined || o.realm === 'all' ? 0xffffffff : uintArg(o.realm, 'options.realm', 0xfffffffe);
    const rate = uintArg(o.rate ?? 0, 'options.rate'), pagesPerStep = uintArg(o.pagesPerStep ?? 0, 'options.pagesPerStep', 0x7fffffff);
    const busyTimeout = uintArg(o.busyTimeout ?? 5000, 'options.busyTimeout');
    return (await import('./rotate_client.js')).runSteps(this, 'rotateStep', { realm, pagesPerStep }, o, rate, busyTimeout, 'key rotation');
  }

  /** Authenticate every reachable page; resolves with the number of pages checked. */
  async verify(): Promise<number> {
    this.alive();
    return (await this.ep.call('verify', {})).pages;
  }

  /**
   * Close the database, releasing its files (and the worker). From the call on, db.write
   * and db.segments.delete reject with EMISUSE; reads keep working until the queued
   * writes have run. Writes queued before the call run (in order) and settle first —
   * except, where nesting cannot be detected exactly (browsers, see {@link write}),
   * writes still waiting behind a write callback that is running at the call: those are
   * rejected at once with EMISUSE ("closed before this write started"), which releases a
   * callback waiting for one of them. Then every open Segment is closed (sending its
   * buffered appends; no sync), then the database. Idempotent: later calls return the
   * first call's promise. Rejects with the first error after everything is closed; called
   * inside a write callback of this database, rejects at once with EMISUSE (it would wait
   * for that callback). Settles once every running write callback has settled.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (this.closed) return Promise.resolve();
    if (writeContext().inside(this))
      return Promise.reject(new PagedbError(ErrorCode.EMISUSE, 'db.close called inside a db.write callback: close after the write resolves'));
    this.closing = this.shutdown();
    this.subs.clear();
    this.unhook?.();
    this.unhook = undefined;
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (!writeContext().exact && this.runningWrites > 0) {
      const err = new PagedbError(ErrorCode.EMISUSE, 'database closed before this write started');
      for (const q of [...this.waiting]) q.cancel(err);
    }
    await this.writeChain;
    this.closed = true;
    const segs = await Promise.allSettled([...this.openSegments].map((s) => s.close()));
    try {
      await this.ep.call('close', {});
    } finally {
      this.onClose?.();
    }
    const failed = segs.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}
