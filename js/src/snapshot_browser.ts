/**
 * snapshot_browser.ts — importSnapshot in browsers. This module is in the page's first load
 * and only checks the arguments; the import itself (snapshot_import_client.ts, its worker
 * snapshot_import_worker.ts and snapshot_import.ts) is loaded on the first call.
 */
import { PagedbError, ErrorCode } from './errors.js';
import type { SnapshotProgress } from './snapshot_engine.js';
import type { OpenOptions } from './types.js';
import { databaseName, openOptions } from './validate.js';

/** Options of importSnapshot: the target's key or passphrase as open() takes them, and: */
export interface ImportSnapshotOptions extends Pick<OpenOptions, 'key' | 'passphrase' | 'pwhashOpsLimit' | 'pwhashMemLimit'> {
  /**
   * Aborting before the stream has been read whole rejects ECANCELED; nothing changed.
   * Afterwards the import runs to its end.
   */
  signal?: AbortSignal;
  /**
   * Called while the stream is read (bytesDone = bytes the import worker has stored so far,
   * pages 0) and once after the import with the engine's final report.
   */
  onProgress?: (p: SnapshotProgress) => void;
  /**
   * TEST ONLY: perform only this many of the final renames, then reject with EIO, leaving
   * the directory as a crash there would (docs/FORMAT.md §14.4, OPFS import).
   */
  testStopAfterRenames?: number;
}

/**
 * Restore a snapshot stream (Database.exportSnapshot, `pagedb snapshot`,
 * pagedb_snapshot_export; docs/FORMAT.md §14) into the OPFS database `name` of this
 * origin. A full stream needs no database there (the directory is created); an
 * incremental one needs the same database at exactly the stream's base txn. Apply a full
 * stream, then its incrementals in order. Works in windows and workers (the import runs in
 * a dedicated worker it starts, on the engine's import).
 *
 * The database must not be open anywhere: the import holds the database's owner lock
 * (tabs.ts) from start to end, taken only if free, so a tab that has it open makes the
 * import reject with EBUSY at once, and a tab that opens it during the import waits for
 * the import (its calls reject with EBUSY after the usual 15 s). The stream is first stored,
 * as it arrives, in `<name>/stream.restore` (OPFS needs room for the stream once more, and
 * for a second copy of main.pdb for an incremental import); memory holds at most 8 MiB of
 * it. Then the engine checks everything and writes `*.restore` temporaries; only then are
 * they moved into place, asynchronously (OPFS has no synchronous rename), segments first
 * and main.pdb last, and the result is reopened to check it is at the target txn. On any
 * error before the moves the directory is as it was (a directory the import created is
 * removed). If the page goes away during the moves (or they fail), the directory opens as
 * before the import, or — after main.pdb moved — as its result; running the same import
 * again completes it; `*.restore` leftovers are deleted by the next import. The full crash
 * analysis is in docs/FORMAT.md §14.4 ("OPFS").
 *
 * Resolves with the engine's final progress (targetTxn = the restored txn id). Rejects
 * with PagedbError: EINVAL (bad name or options, a chunk that is not a Uint8Array),
 * ECANCELED (signal aborted while reading the stream), ECORRUPT (not a snapshot stream,
 * malformed or truncated: the message names the byte position), EAUTH (a tag or the final
 * digest does not verify: damaged or forged), EKEY (the key does not open the stream's
 * data key), EVERSION, EEXIST (full stream: a database is already there), ENOTFOUND
 * (incremental: no database there), ECONFLICT (incremental: the database is at another txn
 * or is another database), EBUSY (open or being opened elsewhere, or another import of
 * it runs), EFULL (quota), ENOMEM, ENOTSUP (no OPFS sync access handles or Web Locks), EIO
 * (OPFS failures, the worker failed to load, or the moves were interrupted: the message
 * says how many were done); or what the stream's reader throws. A stream that is not read
 * to its end (an error before it ended, an abort) is cancelled.
 * Thread-safety: any context of the origin; one import per database at a time (EBUSY).
 */
export async function importSnapshot(name: string, stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  options: ImportSnapshotOptions): Promise<SnapshotProgress> {
  databaseName(name, false);
  const { signal, onProgress, testStopAfterRenames, ...rest } = options ?? ({} as ImportSnapshotOptions);
  const o = openOptions(rest);
  if (signal?.aborted) throw new PagedbError(ErrorCode.ECANCELED, 'snapshot import aborted: nothing changed');
  if (typeof Worker === 'undefined' || typeof navigator === 'undefined' || !navigator.locks || !navigator.storage?.getDirectory)
    throw new PagedbError(ErrorCode.ENOTSUP, 'importSnapshot needs Worker, Web Locks and OPFS (navigator.storage.getDirectory)');
  const { importInWorker } = await import('./snapshot_import_client.js');
  const p = await importInWorker(name, stream, o, signal, onProgress, testStopAfterRenames);
  onProgress?.(p);
  return p;
}
