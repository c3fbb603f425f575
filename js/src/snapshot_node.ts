/**
 * snapshot_node.ts — importSnapshot under Node: restores a snapshot stream (pagedb.h
 * pagedb_snapshot_import, docs/FORMAT.md §14) into a database directory on node:fs.
 * The engine's import pulls its bytes synchronously, so the stream is first written, as
 * it arrives, to a spool file next to the database directory ("<name>.snapshot-<hex>"),
 * which the engine then reads; the spool is removed afterwards in every case. Memory
 * holds one chunk at a time; the disk needs the stream's size once more during the call.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { webcrypto } from 'node:crypto';
import createModule from './pagedb.node.mjs';
import { NodeBackend } from './node_backend.js';
import { testModeHook, type EmModule } from './engine.js';
import { PagedbError, ErrorCode } from './errors.js';
import { importSpooled, type SnapshotProgress } from './snapshot_engine.js';
import type { OpenOptions } from './types.js';
import { databaseName, openOptions } from './validate.js';

export type { SnapshotProgress } from './snapshot_engine.js';

/** Options of importSnapshot: the target's key or passphrase as open() takes them, and: */
export interface ImportSnapshotOptions extends Pick<OpenOptions, 'key' | 'passphrase' | 'pwhashOpsLimit' | 'pwhashMemLimit' | 'directory'> {
  /** Aborting before the stream has been read whole rejects ECANCELED; nothing changed. */
  signal?: AbortSignal;
  /**
   * Called while the stream is read (bytesDone = bytes received so far, pages 0) and once
   * after the import with the engine's final report.
   */
  onProgress?: (p: SnapshotProgress) => void;
}

async function* chunksOf(stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (typeof (stream as ReadableStream<Uint8Array>).getReader === 'function') {
    const r = (stream as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await r.read();
        if (done) return;
        yield value;
      }
    } finally {
      r.releaseLock();
    }
  } else {
    yield* stream as AsyncIterable<Uint8Array>;
  }
}

/**
 * Restore a snapshot stream into the database directory `name` (relative to
 * `options.directory`, default cwd, as open() takes it). A full stream needs no database
 * there (the directory is created); an incremental one needs the same database at exactly
 * the stream's base txn, closed. Apply a full stream, then its incrementals in order.
 * Everything is checked before anything is replaced: on any error the directory is as it
 * was. The database must not be open anywhere during the call (EBUSY otherwise). The
 * signal and onProgress work while the stream is read; the import itself then runs to its
 * end in one synchronous engine call (proportional to the stream's size).
 * Resolves with the engine's final progress (targetTxn = the restored txn id). Rejects with
 * PagedbError: EINVAL (bad name or options, a chunk that is not a Uint8Array), ECANCELED
 * (signal aborted while reading the stream), ECORRUPT (not a snapshot stream, malformed or
 * truncated: the message names the byte position), EAUTH (a tag or the final digest does
 * not verify: damaged or forged), EKEY (the key does not open the stream's data key),
 * EVERSION, EEXIST (full stream: a database is already there), ENOTFOUND (incremental: no
 * database there), ECONFLICT (incremental: the database is at another txn or is another
 * database), EBUSY (open elsewhere), EIO, EFULL, ENOMEM; or what the stream's reader throws.
 * Thread-safety: any event loop; one import per target at a time.
 */
export async function importSnapshot(name: string, stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  options: ImportSnapshotOptions): Promise<SnapshotProgress> {
  databaseName(name, true);
  const { signal, onProgress, ...rest } = options ?? ({} as ImportSnapshotOptions);
  const o = openOptions(rest);
  const aborted = () => new PagedbError(ErrorCode.ECANCELED, 'snapshot import aborted: nothing changed');
  if (signal?.aborted) throw aborted();
  const m: EmModule = await createModule({ wasmBinary: fs.readFileSync(new URL('./pagedb.wasm', import.meta.url)), preRun: [testModeHook(o)] });
  const b = new NodeBackend(o.directory);
  m.pagedbVfs = b;
  const rnd = new Uint8Array(6);
  webcrypto.getRandomValues(rnd);
  const spool = `${path.normalize(name).replace(/[/\\]+$/, '')}.snapshot-${Buffer.from(rnd).toString('hex')}`;
  b.mkdir(path.dirname(spool));
  const h = b.open(spool, 1);
  let open = true;
  try {
    let off = 0;
    for await (const c of chunksOf(stream)) {
      if (signal?.aborted) throw aborted();
      if (!(c instanceof Uint8Array)) throw new PagedbError(ErrorCode.EINVAL, 'snapshot stream chunks must be Uint8Arrays');
      off += b.write(h, c, off);
      onProgress?.({ pagesDone: 0, pagesTotal: 0, bytesDone: off, targetTxn: 0 });
    }
    if (signal?.aborted) throw aborted();
    b.close(h);
    open = false;
    const p = importSpooled(m, name, spool, o);
    onProgress?.(p);
    return p;
  } finally {
    if (open) b.close(h);
    try {
      b.remove(spool);
    } catch {
      /* already gone */
    }
  }
}
