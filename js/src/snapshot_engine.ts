/**
 * snapshot_engine.ts — the synchronous side of snapshot export and import (pagedb.h
 * "Snapshots", docs/FORMAT.md §14) over the wasm module; the worker and Node's in-process
 * handler run it (handler.ts ops snapBegin/snapNext/snapEnd), snapshot_stream.ts turns it
 * into streams. Glue: platform/opfs/glue_snapshot.c (one live exporter per export, read in
 * chunks). Thread-safety: like SyncDatabase, single-threaded on its module.
 */
import { bindModule } from './boundary.js';
import { check, type EmModule, type SyncDatabase } from './engine.js';
import { PagedbError, ErrorCode } from './errors.js';
import type { OpenOptions } from './types.js';

/** Progress of a snapshot export or import (pagedb_snapshot_progress). */
export interface SnapshotProgress {
  /** Main-file and segment pages emitted (export) or applied (import) so far. */
  pagesDone: number;
  /** Export: upper bound of the pages; import: the target's page count minus 2. */
  pagesTotal: number;
  /** Stream bytes produced (export) or read (import) so far. */
  bytesDone: number;
  /** Txn id of the snapshot the stream holds. */
  targetTxn: number;
}

function progressAt(m: EmModule, p: number): SnapshotProgress {
  const v = m.HEAPF64.subarray(p >> 3, (p >> 3) + 4);
  return { pagesDone: v[0], pagesTotal: v[1], bytesDone: v[2], targetTxn: v[3] };
}

/**
 * One export: pins the database's current snapshot from construction until end(). Each
 * next() returns the next stream bytes (a fresh array the caller owns), continuing where
 * the previous one stopped.
 */
export class SyncExport {
  private e: number;
  private area: number; // 16 bytes of results, then 4 doubles of progress
  /** Progress after the last next(). */
  progress: SnapshotProgress = { pagesDone: 0, pagesTotal: 0, bytesDone: 0, targetTxn: 0 };
  /** True once next() returned the stream's last bytes. */
  done = false;

  /**
   * Begin an export of `db` (since: base txn id, 0 = full). Throws PagedbError EINVAL
   * (since not a non-negative safe integer, or above the snapshot's txn id), EBUSY (no
   * registry slot), ENOMEM.
   */
  constructor(private db: SyncDatabase, readonly since: number) {
    if (!Number.isSafeInteger(since) || since < 0) throw new PagedbError(ErrorCode.EINVAL, `since must be a txn id >= 0, not ${since}`);
    const m = db.m;
    this.area = m._malloc(48);
    if (!this.area) throw new PagedbError(ErrorCode.ENOMEM, 'wasm heap exhausted');
    const rc = m._pdbjs_export_begin(db.db, since, this.area);
    if (rc) m._free(this.area);
    check(m, rc);
    this.e = m.HEAPU32[this.area >> 2];
  }

  /**
   * The next `window` bytes of the stream (clamped to 1 .. 1 MiB; fewer only at the end,
   * then `done` is true); an empty array once done. Throws PagedbError: ECANCELED (after
   * cancel()), EAUTH/ECORRUPT/EIO/ENOTFOUND (reading pages or segment files), ENOMEM,
   * EMISUSE (ended). After a throw only end() is useful (the engine's error is final).
   */
  next(window: number): Uint8Array {
    if (!this.e) throw new PagedbError(ErrorCode.EMISUSE, 'snapshot export has ended');
    const m = this.db.m, r = this.area, prog = this.area + 16;
    const rc = m._pdbjs_export_step(this.e, window, r, prog);
    this.progress = progressAt(m, prog);
    check(m, rc);
    const ptr = m.HEAPU32[r >> 2], len = m.HEAP32[(r >> 2) + 1];
    this.done = m.HEAP32[(r >> 2) + 2] !== 0;
    return m.HEAPU8.slice(ptr, ptr + len);
  }

  /** Set the engine's cancel flag: the next next() fails with ECANCELED. */
  cancel(): void {
    if (this.e) this.db.m._pdbjs_export_cancel(this.e);
  }

  /** Release the pinned snapshot and the export's memory. Idempotent. */
  end(): void {
    if (!this.e) return;
    this.db.m._pdbjs_export_end(this.e);
    this.db.m._free(this.area);
    this.e = 0;
  }
}

/**
 * pagedb_snapshot_import of the stream stored in the file `spool` (a backend path) into
 * directory `dir`, with the key or passphrase (and Argon2id bounds) of `options`.
 * Returns the last progress report. Throws PagedbError with the codes of
 * pagedb_snapshot_import: EAUTH/ECORRUPT (damaged, forged or truncated stream; the
 * message names the byte position), EKEY, EVERSION, EEXIST, ENOTFOUND, ECONFLICT, EBUSY,
 * ENOTSUP (backend without rename), EIO, EFULL, ENOMEM. On any error dir is as it was.
 */
export function importSpooled(m: EmModule, dir: string, spool: string, options: OpenOptions): SnapshotProgress {
  bindModule(m);
  const pass = options.passphrase !== undefined ? new TextEncoder().encode(options.passphrase) : undefined;
  const dl = m.lengthBytesUTF8(dir) + 1, sl = m.lengthBytesUTF8(spool) + 1, pl = pass ? pass.length + 1 : 0;
  const size = 32 + 32 + dl + sl + pl;
  const buf = m._malloc(size);
  if (!buf) throw new PagedbError(ErrorCode.ENOMEM, 'wasm heap exhausted');
  try {
    const prog = buf, key = buf + 32, d = key + 32, s = d + dl, p = s + sl;
    m.HEAPF64.fill(0, prog >> 3, (prog >> 3) + 4);
    if (options.key) m.HEAPU8.set(options.key, key);
    m.stringToUTF8(dir, d, dl);
    m.stringToUTF8(spool, s, sl);
    if (pass) m.HEAPU8.set(pass, p);
    const rc = m._pdbjs_snapshot_import(d, s, options.key ? key : 0, pass ? p : 0, pass ? pass.length : 0,
      options.pwhashOpsLimit ?? 0, options.pwhashMemLimit ?? 0, prog);
    const progress = progressAt(m, prog);
    check(m, rc);
    return progress;
  } finally {
    m.HEAPU8.fill(0, buf, buf + size); // wipe key material
    m._free(buf);
    pass?.fill(0);
  }
}
