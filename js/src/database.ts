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
 */
import { PagedbError, ErrorCode } from './errors.js';
import type { Endpoint, WriteOp } from './protocol.js';
import { toBytes, type Bytes, type RangeOptions, type Stats } from './types.js';

/** A table inside a read transaction. */
export interface ReadTable {
  /** The value, or undefined when the key (or the table) is absent. */
  get(key: Bytes): Promise<Uint8Array | undefined>;
}

/** A table inside a write transaction. put/delete are buffered (no round trip). */
export interface WriteTable extends ReadTable {
  put(key: Bytes, value: Bytes): void;
  delete(key: Bytes): void;
}

/** Argument of {@link Database.read}. */
export interface ReadTxn {
  table(name: string): ReadTable;
  /** Entries of a range of `name` in this snapshot. */
  range(name: string, r?: RangeOptions): AsyncIterable<[Uint8Array, Uint8Array]>;
}

/** Argument of {@link Database.write}. */
export interface WriteTxn {
  table(name: string): WriteTable;
  range(name: string, r?: RangeOptions): AsyncIterable<[Uint8Array, Uint8Array]>;
}

const BATCH = 256;

class Txn implements WriteTxn {
  ops: WriteOp[] = [];
  txn = 0; // worker-side id once begun
  ended = false;

  constructor(private ep: Endpoint, readonly write: boolean) {}

  async ensure(): Promise<number> {
    if (this.ended) throw new PagedbError(ErrorCode.EMISUSE, 'transaction has ended');
    if (!this.txn) this.txn = (await this.ep.call('begin', { write: this.write })).txn;
    return this.txn;
  }

  take(): WriteOp[] {
    const o = this.ops;
    this.ops = [];
    return o;
  }

  table(name: string): WriteTable {
    return {
      get: async (key: Bytes) => {
        const txn = await this.ensure();
        return (await this.ep.call('get', { txn, table: name, key: toBytes(key), ops: this.take() })).value;
      },
      put: (key: Bytes, value: Bytes) => {
        if (!this.write) throw new PagedbError(ErrorCode.EMISUSE, 'put in a read transaction');
        if (this.ended) throw new PagedbError(ErrorCode.EMISUSE, 'transaction has ended');
        this.ops.push([0, name, toBytes(key), toBytes(value)]);
      },
      delete: (key: Bytes) => {
        if (!this.write) throw new PagedbError(ErrorCode.EMISUSE, 'delete in a read transaction');
        if (this.ended) throw new PagedbError(ErrorCode.EMISUSE, 'transaction has ended');
        this.ops.push([1, name, toBytes(key)]);
      },
    };
  }

  async *range(name: string, r: RangeOptions = {}): AsyncGenerator<[Uint8Array, Uint8Array]> {
    let cur: RangeOptions = { ...r };
    let left = r.limit ?? Infinity;
    for (;;) {
      const txn = await this.ensure();
      const res = await this.ep.call('scan', { txn, table: name, range: cur, max: BATCH, ops: this.take() });
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

/** An open database. Methods may be called concurrently; writes are serialised. */
export class Database {
  private closed = false;
  private writeChain: Promise<unknown> = Promise.resolve();

  /** @internal */
  constructor(private ep: Endpoint, private onClose?: () => void) {}

  private alive(): void {
    if (this.closed) throw new PagedbError(ErrorCode.EMISUSE, 'database is closed');
  }

  /**
   * Run fn in a write transaction: commits (durably) when fn's result resolves, aborts when
   * it throws (the error is re-thrown). Resolves with fn's result. Write transactions are
   * queued so only one runs at a time. Errors reject with PagedbError.
   */
  write<T>(fn: (tx: WriteTxn) => T | Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new PagedbError(ErrorCode.EMISUSE, 'database is closed'));
    const run = async (): Promise<T> => {
      const tx = new Txn(this.ep, true);
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        tx.ended = true;
        if (tx.txn) await this.ep.call('abort', { txn: tx.txn }).catch(() => undefined);
        throw e;
      }
      tx.ended = true;
      if (tx.txn) await this.ep.call('commit', { txn: tx.txn, ops: tx.take() });
      else if (tx.ops.length) await this.ep.call('writeBatch', { ops: tx.take() });
      return result;
    };
    const p = this.writeChain.then(run, run);
    this.writeChain = p.catch(() => undefined);
    return p;
  }

  /** Run fn in a read-only snapshot transaction; resolves with fn's result. */
  async read<T>(fn: (tx: ReadTxn) => T | Promise<T>): Promise<T> {
    this.alive();
    const tx = new Txn(this.ep, false);
    try {
      return await fn(tx);
    } finally {
      tx.ended = true;
      if (tx.txn) await this.ep.call('abort', { txn: tx.txn }).catch(() => undefined);
    }
  }

  /** Iterate a range of table `name` on one snapshot (ended when iteration stops). */
  async *range(name: string, r: RangeOptions = {}): AsyncGenerator<[Uint8Array, Uint8Array]> {
    this.alive();
    const tx = new Txn(this.ep, false);
    try {
      yield* tx.range(name, r);
    } finally {
      tx.ended = true;
      if (tx.txn) await this.ep.call('abort', { txn: tx.txn }).catch(() => undefined);
    }
  }

  /** Counters: cache hits/misses/evictions, bytes read/written, pages, txn id. */
  async stat(): Promise<Stats> {
    this.alive();
    return this.ep.call('stat', {});
  }

  /** Authenticate every reachable page; resolves with the number of pages checked. */
  async verify(): Promise<number> {
    this.alive();
    return (await this.ep.call('verify', {})).pages;
  }

  /** Close the database, releasing its files (and the worker). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.writeChain;
    this.closed = true;
    try {
      await this.ep.call('close', {});
    } finally {
      this.onClose?.();
    }
  }
}
