/**
 * protocol.ts — the typed worker protocol: a request is an op with its arguments and an
 * id, answered by the op's result or by an error `{code, message}`; the worker first
 * posts `{ready: true}`. Each op's argument and result types are in the maps below.
 *
 * Requests travel in batches: the client (batch.ts) queues the calls issued in one tick
 * and posts them as ONE message (at most BATCH_MAX_REQUESTS requests and about
 * BATCH_MAX_BYTES of keys, values and appended bytes per message). The worker runs a
 * batch's requests in order, one at a time, exactly as if they had come one by one, and
 * answers in one or more messages (at most REPLY_MAX_RESPONSES answers / about
 * REPLY_MAX_BYTES of result bytes each), in request order. Each request succeeds or fails
 * on its own: an error answers only its request. The messages are encoded by wire.ts: gets
 * and scans as numbers plus one transferred byte buffer, everything else as the
 * `{op, args}` / result objects typed below.
 *
 * Transactions are named by `txn`, a number the client chooses in `begin` (unique per
 * connection while the transaction lives), so a begin and the reads that use it travel in
 * the same batch without waiting for the begin's answer. An op on a transaction whose
 * begin failed fails with EMISUSE; the client reports the begin's error instead.
 *
 * Segment ops (seg*) name an open segment by `seg`, a handle number the worker assigned in
 * segCreate/segOpen (valid until segClose or close). Appends are batched on the caller's
 * side: `data` carries the bytes appended since the last op on that segment (chunks in
 * order, at most ~1 MiB in total), applied before the op itself, so a read, sync, seal or
 * close sees every earlier append. Segment ids are bigints (structured clone keeps them).
 */
import type { MaintenanceProgress, OpenOptions, RangeOptions, SegmentInfo, Stats } from './types.js';
import type { TableInfo } from './table.js';
import type { SnapshotProgress } from './snapshot_engine.js';

/**
 * A buffered write: [0, table, key, value] = put, [1, table, key] = delete,
 * [2, segment id, meta | null] = link the segment (null keeps an existing record's
 * metadata), [3, segment id] = unlink the segment, [4, table] = drop the table (absent:
 * nothing), [5, table] = delete every entry of the table, keeping it (absent: nothing).
 */
export type WriteOp =
  | [0, string, Uint8Array, Uint8Array]
  | [1, string, Uint8Array]
  | [2, bigint, Uint8Array | null]
  | [3, bigint]
  | [4, string]
  | [5, string];

export interface OpArgs {
  open: { name: string; options: OpenOptions };
  /** Begin a transaction named `txn` (chosen by the client, >= 1, not in use). */
  begin: { write: boolean; txn: number };
  get: { txn: number; table: string; key: Uint8Array; ops: WriteOp[] };
  scan: { txn: number; table: string; range: RangeOptions; max: number; ops: WriteOp[] };
  /**
   * Commit `txn` after applying `ops`. `idem`: an idempotency id (1..255 UTF-8 bytes)
   * recorded in the same transaction (FORMAT.md §11); a commit whose id is already
   * recorded is aborted and fails with EEXIST ("already committed").
   */
  commit: { txn: number; ops: WriteOp[]; idem?: string };
  abort: { txn: number };
  /** A write transaction of `ops` alone (begin, apply, commit); `idem` as in commit. */
  writeBatch: { ops: WriteOp[]; idem?: string };
  stat: Record<string, never>;
  verify: Record<string, never>;
  close: Record<string, never>;
  /** Create a segment in realm `realm` and open it for append. */
  segCreate: { realm: number };
  /** Open segment `id` (append: for appending; verify: authenticate a sealed one first). */
  segOpen: { id: bigint; append: boolean; verify: boolean };
  /** Append `data`. */
  segAppend: { seg: number; data: Uint8Array[] };
  /** Append `data`, then read `length` bytes at byte `offset`. */
  segRead: { seg: number; data: Uint8Array[]; offset: number; length: number };
  /** Append `data`, then sync. */
  segSync: { seg: number; data: Uint8Array[] };
  /** Append `data`, then seal. */
  segSeal: { seg: number; data: Uint8Array[] };
  /** Append `data`, then describe the segment. */
  segStat: { seg: number; data: Uint8Array[] };
  /** Append `data`, then verify every page on disk. */
  segVerify: { seg: number; data: Uint8Array[] };
  /** Append `data`, then close the handle (closed even when the append fails). */
  segClose: { seg: number; data: Uint8Array[] };
  /** Delete segment `id`: pagedb_segment_delete if unlinked, else unlink it and commit. */
  segDelete: { id: bigint };
  /** Linked segment `id` in transaction `txn` (after applying `ops`). */
  segGet: { txn: number; id: bigint; ops: WriteOp[] };
  /** Linked segments in transaction `txn` (after `ops`); txn 0: a fresh read snapshot. */
  segList: { txn: number; ops: WriteOp[] };
  /** Tables in transaction `txn` (after `ops`); txn 0: a fresh read snapshot. */
  tables: { txn: number; ops: WriteOp[] };
  /** Entries of a range of `table` in transaction `txn` (after `ops`). */
  count: { txn: number; table: string; range: RangeOptions; ops: WriteOp[] };
  /** Begin a snapshot export (pins the current snapshot); since = base txn id, 0 = full. */
  snapBegin: { since: number };
  /** The next about `window` bytes of export `snap` (its bytes are transferred). */
  snapNext: { snap: number; window: number };
  /** End export `snap` (releasing its snapshot); cancel: through the engine (ECANCELED). */
  snapEnd: { snap: number; cancel: boolean };
  /**
   * One compaction step (rotate_engine.ts compactStep); pagesPerStep 0 = the default. The
   * first one switches the handler to the full module, as rotateStep's does (`full`).
   */
  compactStep: { pagesPerStep: number; full?: FullModuleUrls };
  /** Change the key-encryption key (SyncDatabase.rekey). */
  rekey: { newKey?: Uint8Array; newPassphrase?: string; pwhashOpsLimit?: number; pwhashMemLimit?: number };
  /**
   * One data key rotation step (SyncDatabase.rotateStep) of realm `realm` (0xffffffff =
   * every realm); the first one switches the handler to the full module
   * (rotate_engine.ts), in browsers loaded from the URLs in `full`, as the page resolved
   * them (rotate_client.ts).
   */
  rotateStep: { realm: number; pagesPerStep: number; full?: FullModuleUrls };
}

/**
 * Where the code of data key rotation and compaction is, as absolute URLs (browsers; rotate_client.ts):
 * rotate_engine.js, the full module's worker glue and its wasm.
 */
export interface FullModuleUrls {
  engine: string;
  glue: string;
  wasm: string;
}

export interface OpResults {
  open: null;
  begin: { txn: number };
  get: { value: Uint8Array | undefined };
  scan: { entries: [Uint8Array, Uint8Array][]; more: boolean };
  commit: CommitResult;
  abort: null;
  writeBatch: CommitResult;
  stat: Stats;
  verify: { pages: number };
  close: null;
  segCreate: { seg: number; id: bigint };
  segOpen: { seg: number; info: SegmentInfo };
  segAppend: null;
  segRead: { bytes: Uint8Array };
  segSync: null;
  segSeal: { info: SegmentInfo };
  segStat: { info: SegmentInfo };
  segVerify: { pages: number };
  segClose: null;
  segDelete: CommitResult | null;
  segGet: { info: SegmentInfo | undefined };
  segList: { segments: SegmentInfo[] };
  tables: { tables: TableInfo[] };
  count: { count: number };
  snapBegin: { snap: number };
  snapNext: { bytes: Uint8Array; done: boolean; progress: SnapshotProgress };
  snapEnd: null;
  compactStep: { done: boolean; progress: MaintenanceProgress };
  rekey: null;
  rotateStep: { done: boolean; progress: MaintenanceProgress };
}

export type Op = keyof OpArgs;

/**
 * A table changed by a commit: its name, its realm (undefined when the commit dropped it),
 * and the keys written or deleted — undefined when every key may have changed (the table
 * was cleared or dropped) or more than CHANGED_KEYS_MAX keys changed.
 */
export interface ChangedTable {
  name: string;
  realm: number | undefined;
  keys: Uint8Array[] | undefined;
}

/** What a commit changed (the answer of commit, writeBatch and a committing segDelete). */
export interface CommitResult {
  /** The txn id the commit made durable (pagedb_txn_id; Stats.txnId after it). */
  txnId: number;
  /** Tables written, in name order (empty for a commit of segment links alone). */
  tables: ChangedTable[];
  /** True when the commit linked or unlinked a segment. */
  segments: boolean;
}

/** Most changed keys a commit reports per table; beyond this only the table is named. */
export const CHANGED_KEYS_MAX = 64;

/**
 * The internal table in which a commit's idempotency id is recorded (FORMAT.md §11). Its
 * name is reserved: `tables` does not list it.
 */
export const IDEMPOTENCY_TABLE = 'pagedb.idempotency';

/** Most requests in one batch message. */
export const BATCH_MAX_REQUESTS = 256;
/**
 * About the most bytes of keys, values and appended data in one batch message (1 MiB); a
 * single larger request travels alone.
 */
export const BATCH_MAX_BYTES = 1 << 20;
/** Get values of at least this many bytes travel in their own buffer, not packed (64 KiB). */
export const REPLY_OWN_BUFFER_BYTES = 64 * 1024;
/** About the most packed or transferred result bytes in one answer message (1 MiB). */
export const REPLY_MAX_BYTES = 1 << 20;
/** Most responses in one answer message. */
export const REPLY_MAX_RESPONSES = 256;

/** Something that executes ops: the worker (via postMessage) or an in-process handler. */
export interface Endpoint {
  /**
   * Run `op`. A get's key and a scan's range bounds are read during the call; other byte
   * arrays in args may be read until the call is sent (the end of the tick). `transfer`:
   * ArrayBuffers inside args that the caller gives up (moved to the worker instead of
   * copied; an in-process endpoint ignores it).
   */
  call<K extends Op>(op: K, args: OpArgs[K], transfer?: ArrayBuffer[]): Promise<OpResults[K]>;
}
