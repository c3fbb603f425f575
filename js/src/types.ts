/** Public option and result types shared by every entry point of the package. */
import { PagedbError, ErrorCode } from './errors.js';
import { bytesArg } from './validate.js';

/**
 * Keys, values and other byte arguments: a string (UTF-8 encoded), an ArrayBuffer (its
 * bytes), or any ArrayBufferView — Uint8Array, Buffer, DataView, Uint16Array,
 * Float64Array... — taken byte for byte over its byteOffset/byteLength (multi-byte
 * elements in the platform's byte order, little-endian on every platform pagedb runs
 * on). Anything else (null, numbers, booleans, plain objects, arrays) is refused with
 * PagedbError EINVAL naming the argument.
 */
export type Bytes = string | ArrayBufferView | ArrayBuffer;

/** Cipher of a new database; recorded in the file, ignored when opening an existing one. */
export type Cipher = 'xchacha20poly1305' | 'aes256gcm' | 'none';

/**
 * Where a Database's calls run now ({@link Database.engineLocation}):
 *  - 'this-thread': the engine runs in the calling thread, no message hop (Node; a
 *    dedicated worker that owns the database);
 *  - 'worker': this tab owns the database and runs the engine in its own dedicated worker;
 *  - 'owner': another context owns the database; calls go to it (tabs.ts);
 *  - 'snapshot': a service worker's read-only snapshot (no tab has the database open);
 *  - 'none': no backend at the moment (electing an owner, suspended, closed or failed).
 */
export type EngineLocation = 'this-thread' | 'worker' | 'owner' | 'snapshot' | 'none';

/** Options of {@link open}. Exactly one of `key` or `passphrase` is required. */
export interface OpenOptions {
  /** 32-byte raw key (the key-encryption key). */
  key?: Uint8Array;
  /** Passphrase, stretched with Argon2id (libsodium crypto_pwhash). */
  passphrase?: string;
  /** Hard cap of the buffer pool in bytes (default 8 MiB; at least 64 pages). */
  cacheBytes?: number;
  /** Page size in bytes for a new database: power of two, 4096..65536 (default 4096). */
  pageSize?: number;
  /** Cipher of a new database (default 'xchacha20poly1305'; 'aes256gcm' works everywhere but runs
   *  BearSSL's constant-time software AES in wasm, 3-6x slower: README 'Choosing a cipher'). */
  cipher?: Cipher;
  /** Create the database if absent (default true). */
  create?: boolean;
  /** Open read-only. */
  readOnly?: boolean;
  /**
   * Argon2id limits used when creating a passphrase database (default libsodium INTERACTIVE).
   * At most 4 passes and 1 GiB (EINVAL above); opening a file whose header asks for more is
   * ENOTSUP, and limits outside Argon2id's range are ECORRUPT (FORMAT.md §2.1).
   */
  pwhashOpsLimit?: number;
  /** Argon2id memory limit in bytes (default libsodium INTERACTIVE, 64 MiB). */
  pwhashMemLimit?: number;
  /**
   * TEST ONLY: a 32-byte seed making key and nonce generation deterministic so the same
   * operations produce byte-identical files on every target. Refused unless
   * `allowDeterministic` is also true.
   */
  testSeed?: Uint8Array;
  /** TEST ONLY: must be true for `testSeed` to be accepted. */
  allowDeterministic?: boolean;
  /**
   * TEST ONLY (browser): faults injected by the worker's OPFS backend (worker.ts), for the
   * failover and quota tests. `stallBeforeHeaderMs` / `stallAfterHeaderMs`: busy-wait
   * this long (ms) before / after each header-page write of main.pdb once the database is
   * open — a commit stalled between its page writes and its commit point, or just after
   * it. Ignored under Node.
   */
  testFaults?: { stallBeforeHeaderMs?: number; stallAfterHeaderMs?: number };
  /** Node only: directory under which the database directory `name` lives (default cwd). */
  directory?: string;
}

/** Range of {@link Database.range}: all bounds optional. */
export interface RangeOptions {
  /** Inclusive lower bound. */
  gte?: Bytes;
  /** Exclusive upper bound. */
  lt?: Bytes;
  /** Only keys starting with this prefix. */
  prefix?: Bytes;
  /** Descending order. */
  reverse?: boolean;
  /** At most this many entries: a non-negative integer (0 yields none); default all. */
  limit?: number;
}

/** Counters of {@link Database.stat} (bytes, pages, counts). */
export interface Stats {
  pageSize: number;
  cipher: number;
  txnId: number;
  pageCount: number;
  freePages: number;
  fileBytes: number;
  cacheCapBytes: number;
  cachePages: number;
  cacheHits: number;
  cacheMisses: number;
  cacheEvictions: number;
  bytesRead: number;
  bytesWritten: number;
  syncs: number;
  tables: number;
  realms: number;
  /** Header slot (0 or 1) the database was recovered from at open (FORMAT.md §6.3). */
  openSlot: number;
  /** Txn id recovered at open. */
  openTxn: number;
  /**
   * State of the other header slot at open (C PAGEDB_SLOT_*): 0 valid, 1 empty (never
   * written), 2 invalid: a torn header write of an unacknowledged commit, or damage that
   * may have cost the newest commit; verify() then fails with ECORRUPT naming the slot.
   */
  otherSlotState: number;
  /**
   * The seal counter (C pagedb_realm_seals with PAGEDB_REALM_ALL, docs/FORMAT.md §13.2) of
   * the realm whose current page key made the most AEAD seals (page writes): its id, its
   * key epoch, the seals (an upper bound: it may exceed the truth by one reservation step,
   * at most 2^20 plus one commit's pages, per reopen; 0 for cipher 'none') and the key's
   * limit (2^32 for AES-256-GCM, NIST SP 800-38D §8.3; 0 = none, XChaCha20-Poly1305).
   */
  sealRealm: number;
  sealEpoch: number;
  seals: number;
  sealLimit: number;
  /**
   * C PAGEDB_SEALS_*: 1 = rotate that realm's data key now (seals >= limit / 2; the package
   * also logs a console warning once per open), 2 = limit reached (writes under that key
   * fail with EFULL until db.rotateKeys), 4 = pages written by a build without the counter.
   */
  sealFlags: number;
}

/**
 * A segment id as given to the package: a bigint, a safe non-negative integer number, or a
 * decimal string. Ids are 64-bit and assigned by pagedb (>= 1); the package always returns
 * them as `bigint` (a JavaScript number cannot hold every 64-bit value). bigints survive
 * postMessage (structured clone) but not JSON.stringify: use `id.toString()` for JSON.
 */
export type SegmentIdLike = bigint | number | string;

/**
 * Description of a segment (`db.segments.list()`, `tx.segments.get()`, `seg.stat()`).
 * Mirrors the C pagedb_segment_info.
 */
export interface SegmentInfo {
  /** Segment id (>= 1). */
  id: bigint;
  /** Realm owning the segment (0 = the default realm). */
  realm: number;
  /** Length in bytes (exact below 2^53). For an unsealed segment: as known to this database handle. */
  length: number;
  /** Number of data pages: ceil(length / payload bytes per page). */
  pages: number;
  /** True once sealed (immutable, footer with the root hash written). */
  sealed: boolean;
  /** True when linked in the catalog (list/get: always; stat: as far as this handle knows). */
  linked: boolean;
  /** Sealed: BLAKE2b-128 over the data pages' tags (FORMAT.md §9.4); 16 zero bytes otherwise. */
  root: Uint8Array;
  /** Metadata stored by the last link (empty when none; always empty from stat). */
  meta: Uint8Array;
}

/** Options of `db.segments.open()`. */
export interface SegmentOpenOptions {
  /** Open for appending (the segment must be unsealed; one append handle at a time). */
  append?: boolean;
  /** Authenticate every page against the sealed root before returning (sealed segments). */
  verify?: boolean;
}

const MAX_U64 = (1n << 64n) - 1n;

/**
 * Normalise a segment id to a bigint in 1..2^64-1. Throws PagedbError EINVAL for anything
 * else (negative, fractional or unsafe numbers, non-decimal strings).
 */
export function toSegmentId(id: SegmentIdLike): bigint {
  let v: bigint;
  if (typeof id === 'bigint') v = id;
  else if (typeof id === 'number') {
    if (!Number.isSafeInteger(id)) throw new PagedbError(ErrorCode.EINVAL, `segment id ${id} is not a safe integer: pass a bigint`);
    v = BigInt(id);
  } else if (typeof id === 'string' && /^[0-9]+$/.test(id)) v = BigInt(id);
  else throw new PagedbError(ErrorCode.EINVAL, `bad segment id ${String(id)}: a bigint, a safe integer or a decimal string`);
  if (v < 1n || v > MAX_U64) throw new PagedbError(ErrorCode.EINVAL, `segment id ${v} out of range 1..2^64-1`);
  return v;
}

/**
 * The bytes of `b` as a Uint8Array (see {@link Bytes}): strings UTF-8 encoded into a new
 * array, a Uint8Array as it is, other views and ArrayBuffers viewed without copying.
 * Throws PagedbError EINVAL naming `what` (default "value") for anything else.
 */
export function toBytes(b: Bytes, what = 'value'): Uint8Array {
  return bytesArg(b, what);
}

/**
 * Progress of db.compact, db.rotateKeys and db.rekey (pagedb.h pagedb_maint_progress), reported after
 * every step and returned at the end. Pages are pages of main.pdb (Stats.pageSize bytes
 * each). A key change rewrites no page: it reports phase 0, pagesDone 0, steps 2.
 */
export interface MaintenanceProgress {
  /** Phase of the last step: compaction, FORMAT.md §12.1 (1..5); data key rotation, §13.3
   *  (1, 5, 2, 3, 4, 6 in that order); 0 once the operation is complete. */
  phase: number;
  /** Pages moved or packed so far by this compaction, counting earlier (resumed) calls. */
  pagesDone: number;
  /** Estimate of pagesDone at completion (>= pagesDone). */
  pagesTotal: number;
  /** Bytes written to main.pdb by this call's steps so far. */
  bytesWritten: number;
  /** Steps (write transactions) this call committed so far. */
  steps: number;
  /** Pages of main.pdb after the last step (the file shrinks to this once it completes). */
  pageCount: number;
  /** The page count the compaction aims for (FORMAT.md §12.2). */
  targetPages: number;
  /** True once the compaction is complete (nothing left to move). */
  done: boolean;
}

/** Options of db.compact. */
export interface CompactOptions {
  /**
   * Throttle in bytes per second written to main.pdb, averaged over the call: after each
   * step the call waits as long as needed to stay at or below it. Absent or 0 = as fast
   * as possible.
   */
  rate?: number;
  /** Pages moved per step (one write transaction) at most, 1..2^31-1 (default 256). */
  pagesPerStep?: number;
  /**
   * How long (ms, default 5000) a step answered with EBUSY is retried (every 50 ms, other
   * requests are served in between) before the call rejects with EBUSY: the first step
   * needs the database idle (no transaction, segment handle or snapshot export open, in
   * any tab) to switch it to the full module (db.compact). 0 = no retry.
   */
  busyTimeout?: number;
  /**
   * Aborting stops the compaction between two steps (a running step finishes first,
   * within one step's time): the call rejects with PagedbError ECANCELED, the steps
   * committed so far stay, and the next db.compact resumes where it stopped.
   */
  signal?: AbortSignal;
  /** Called after every step with the progress so far. An exception it throws rejects the call (after the step). */
  onProgress?: (p: MaintenanceProgress) => void;
}

/**
 * Options of db.rotateKeys (data key rotation, docs/FORMAT.md §13.3). Every option may be
 * absent.
 */
export interface RotateKeysOptions {
  /**
   * The realm whose data key is rotated: a realm id (0 = the default realm of tables
   * opened without one, 1..2^32-2 = a realm created by a table or segment), or 'all'
   * (default) = every realm of the database.
   */
  realm?: number | 'all';
  /**
   * Throttle in bytes per second written to main.pdb, averaged over the call: after each
   * step the call waits as long as needed to stay at or below it. Absent or 0 = as fast
   * as possible. (Segment files re-sealed by a step are not counted.)
   */
  rate?: number;
  /** Pages re-sealed per step (one write transaction) at most, 1..2^31-1 (default 256). */
  pagesPerStep?: number;
  /**
   * How long (ms, default 5000) a step answered with EBUSY is retried (every 50 ms, other
   * requests are served in between) before the call rejects with EBUSY: the first step
   * needs the database idle (no transaction, segment handle or snapshot export open, in
   * any tab) to switch it to the full module; the last ones wait until no snapshot older
   * than the re-sealed state is open. 0 = no retry.
   */
  busyTimeout?: number;
  /**
   * Aborting stops the rotation between two steps (a running step finishes first): the
   * call rejects with PagedbError ECANCELED, the steps committed so far stay (new writes
   * already use the new key), and the next db.rotateKeys resumes where it stopped — also
   * after a crash, a reload or in another process (the rotation's record is stored in the
   * database).
   */
  signal?: AbortSignal;
  /**
   * Called after every step with the progress so far (phase of FORMAT.md §13.3: 1 tables,
   * 5 segment files, 2 catalog, 3 free pages, 4 finish, 6 free catalog pages; 0 when done; pagesDone/pagesTotal
   * count pages re-sealed or overwritten over the whole rotation, resumed calls included;
   * targetPages 0). An exception it throws rejects the call (after the step).
   */
  onProgress?: (p: MaintenanceProgress) => void;
}

/**
 * Options of db.rekey: exactly one of `newKey` or `newPassphrase` (either may replace
 * either: a raw-key database may get a passphrase and vice versa).
 */
export interface RekeyOptions {
  /** The new 32-byte raw key-encryption key (copied during the call). */
  newKey?: Uint8Array;
  /** The new passphrase (non-empty), stretched with Argon2id. */
  newPassphrase?: string;
  /** Argon2id ops limit for a new passphrase (default INTERACTIVE; at most 4). */
  pwhashOpsLimit?: number;
  /** Argon2id memory limit in bytes for a new passphrase (default 64 MiB; at most 1 GiB). */
  pwhashMemLimit?: number;
  /**
   * Checked before the key change starts: aborted then, the call rejects with ECANCELED
   * and nothing changes. A key change is one engine call of two commits (no page is
   * rewritten), so once started it completes; an abort then has no effect.
   */
  signal?: AbortSignal;
  /** Called once, after the key change is durable (steps 2, no page rewritten). */
  onProgress?: (p: MaintenanceProgress) => void;
}
