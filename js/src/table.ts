/**
 * table.ts — named tables with a value codec, table management and async iteration.
 *
 *   const notes = db.table<Note>('notes', { codec: 'json' });
 *   await notes.put('n1', { title: 'hello' });            // its own write transaction
 *   const n = await notes.get('n1');                       // Note | undefined
 *   await db.write((tx) => tx.table(notes).put('n2', { title: 'bye' }));  // same codec in a txn
 *   for await (const [key, note] of notes.iterate({ prefix: 'n' })) ...  // one snapshot
 *   await notes.count({ prefix: 'n' });  await notes.clear();  await notes.drop();
 *   await db.tables();  // [{ name, realm, entries, pages, bytes, depth }]
 *
 * A Table object holds no resources: it is the table's name plus its codec, and each of its
 * methods runs one transaction (reads a snapshot, writes are queued with the database's
 * other writes). Inside `db.read`/`db.write`, `tx.table(table)` gives the same operations
 * on the transaction, with the codec.
 *
 * Iteration (`db.iterate`, `table.iterate`, `tx.range`): entries arrive in batches of up
 * to 256 (and about 1 MiB) per message; the next batch is requested only when the loop has
 * consumed the current one (back-pressure: a slow loop holds at most one batch). The whole
 * iteration reads one snapshot, a read transaction opened at the first batch and held
 * until the loop ends — normally, by `break`/`return`, or by a throw — so writes committed
 * meanwhile are not seen and nothing is seen twice or skipped. A held snapshot keeps the
 * pages it reads from being reused, so the file can grow while a long iteration runs
 * (pagedb.h, pagedb_txn_begin).
 */
import { resolveCodec, valueBytes, type Codec, type CodecSpec } from './codec.js';
import type { Bytes, RangeOptions } from './types.js';
import type { Database } from './database.js';

/** One table as listed by {@link Database.tables}. Counts are exact below 2^53. */
export interface TableInfo {
  /** Table name. */
  name: string;
  /** Owning realm id (0 = the default realm). */
  realm: number;
  /** Number of entries (keys). */
  entries: number;
  /** Pages of its B+ tree (branch, leaf and overflow pages). */
  pages: number;
  /** Bytes those pages take in the file: pages x page size. */
  bytes: number;
  /** Height of its B+ tree (1 = a single leaf). */
  depth: number;
}

/** Options of `db.table()`. */
export interface TableOptions<T> {
  /** Value codec (default 'bytes'); see codec.ts. Not stored in the database. */
  codec?: CodecSpec<T>;
}

/** What a table's put accepts: for a bytes table any bytes or a string, else the codec's type. */
export type TableInput<T> = T extends Uint8Array ? Uint8Array | ArrayBufferView | ArrayBuffer | string : T;

/** A table inside a read transaction, with its codec (`tx.table(table)`). */
export interface TypedReadTable<T> {
  /** The decoded value of `key`, or undefined (absent key or table). Errors: as ReadTable.get, and the codec's. */
  get(key: Bytes): Promise<T | undefined>;
  /**
   * Entries of `range` (all when omitted; bounds as in RangeOptions, `reverse` ignored,
   * `limit` caps the count) in this transaction's view, counted without transferring them.
   * A range without bounds reads the catalog's count (no scan). 0 for an absent table.
   */
  count(range?: RangeOptions): Promise<number>;
  /** Entries of a range in this transaction's view, values decoded. */
  range(range?: RangeOptions): AsyncIterable<[Uint8Array, T]>;
}

/** A table inside a write transaction, with its codec. put/delete/clear are buffered. */
export interface TypedWriteTable<T> extends TypedReadTable<T> {
  /** Insert or replace; the value is encoded now (a codec error throws here, PagedbError EINVAL for the built-in ones). */
  put(key: Bytes, value: TableInput<T>): void;
  /** Delete `key` (absent: nothing). */
  delete(key: Bytes): void;
  /** Delete every entry at commit, keeping the (empty) table; absent table: nothing. */
  clear(): void;
}

/** The raw (bytes) table of a transaction, as database.ts provides it. */
export interface RawTxnTable {
  get(key: Bytes): Promise<Uint8Array | undefined>;
  put(key: Bytes, value: Bytes): void;
  delete(key: Bytes): void;
  count(range?: RangeOptions): Promise<number>;
  clear(): void;
}

/**
 * A named table with a value codec, bound to one Database (`db.table(name, options)`).
 * Holds no resources; create as many as you like. Every method rejects with PagedbError
 * (EMISUSE once the database is closed; EINVAL for bad keys, ranges or values) or the
 * codec's own error.
 */
export class Table<T = Uint8Array> {
  /** The codec in use. */
  readonly codec: Codec<T>;

  /** @internal use db.table(). Throws PagedbError EINVAL for a bad name or codec. */
  constructor(private host: Database, readonly name: string, options: TableOptions<T> = {}) {
    this.codec = resolveCodec<T>(options.codec);
  }

  /** The decoded value of `key` in a fresh snapshot, or undefined. */
  get(key: Bytes): Promise<T | undefined> {
    return this.host.read((tx) => tx.table(this).get(key));
  }

  /** Put one entry in its own (durable) write transaction. */
  put(key: Bytes, value: TableInput<T>): Promise<void> {
    return this.host.write((tx) => tx.table(this).put(key, value));
  }

  /** Delete one key in its own write transaction (absent: nothing). */
  delete(key: Bytes): Promise<void> {
    return this.host.write((tx) => tx.table(this).delete(key));
  }

  /** Entries in `range` (all when omitted) in a fresh snapshot; see TypedReadTable.count. */
  count(range?: RangeOptions): Promise<number> {
    return this.host.read((tx) => tx.table(this).count(range));
  }

  /** Delete every entry (one write transaction), keeping the empty table. */
  clear(): Promise<void> {
    return this.host.write((tx) => tx.table(this).clear());
  }

  /** Drop the table and free its pages; resolves true when it existed. */
  drop(): Promise<boolean> {
    return this.host.dropTable(this.name);
  }

  /** Iterate a range on one snapshot, values decoded (see the file header). */
  iterate(range?: RangeOptions): AsyncGenerator<[Uint8Array, T]> {
    return this.host.iterate(this, range);
  }
}

/** The codec of a table argument: a Table's, else the bytes codec. */
export function codecOf<T>(t: string | Table<T>): Codec<T> {
  return typeof t === 'string' ? (resolveCodec('bytes') as unknown as Codec<T>) : t.codec;
}

/** Decode the values of a raw range. */
export async function* decoded<T>(src: AsyncIterable<[Uint8Array, Uint8Array]>, codec: Codec<T>): AsyncGenerator<[Uint8Array, T]> {
  for await (const [k, v] of src) yield [k, codec.decode(v)];
}

/**
 * The typed view of a transaction's raw table (`tx.table(table)`): values encoded on put,
 * decoded on get and range.
 */
export function typedTable<T>(raw: RawTxnTable, codec: Codec<T>, range: (r?: RangeOptions) => AsyncIterable<[Uint8Array, Uint8Array]>): TypedWriteTable<T> {
  return {
    get: async (key) => {
      const v = await raw.get(key);
      return v === undefined ? undefined : codec.decode(v);
    },
    put: (key, value) => raw.put(key, (codec as Codec<unknown>).encode(value) as Uint8Array),
    delete: (key) => raw.delete(key),
    clear: () => raw.clear(),
    count: (r) => raw.count(r),
    range: (r) => decoded(range(r), codec),
  };
}

/** Bytes of a put value for a raw table: any byte view, ArrayBuffer or string. */
export { valueBytes };
