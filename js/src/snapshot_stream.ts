/**
 * snapshot_stream.ts — db.exportSnapshot's ReadableStream source over the protocol ops
 * snapBegin/snapNext/snapEnd (snapshot_handler.ts), loaded on first use (database.ts), so
 * the first load of a page does not carry it. Pull-based: the next chunk (CHUNK bytes) is
 * read from the engine's live exporter (pagedb_snapshot_exporter, glue_snapshot.c) only
 * when the reader wants it (the stream's highWaterMark is 0), so one chunk is in memory
 * here and one in the engine, whatever the stream's size, and each chunk costs only its
 * own pages (nothing before it is read or hashed again). The engine pins the target
 * snapshot from the first pull until the end, a cancel, an abort or the database's close.
 */
import { PagedbError, ErrorCode } from './errors.js';
import type { Endpoint } from './protocol.js';
import type { SnapshotProgress } from './snapshot_engine.js';

export type { SnapshotProgress } from './snapshot_engine.js';

/** Options of Database.exportSnapshot. */
export interface ExportSnapshotOptions {
  /**
   * Base txn id: 0 or absent = a full stream; the target txn id of an earlier stream (its
   * SnapshotProgress.targetTxn, or Stats.txnId when it was taken) = an incremental stream
   * of the pages written after it.
   */
  since?: number;
  /** Aborting cancels the export: the stream errors with PagedbError ECANCELED. */
  signal?: AbortSignal;
  /** Called after every chunk the engine produced (pages, bytes so far). */
  onProgress?: (p: SnapshotProgress) => void;
  /**
   * Throttle in stream bytes per second, averaged over the export (from the first read):
   * each engine chunk is handed to the reader in pieces of rate/8 bytes (at least 1),
   * each once its bytes are due at the rate. Absent or 0 = unthrottled (whole chunks).
   * A positive number; EINVAL otherwise.
   */
  rate?: number;
}

/** Bytes asked of the engine per chunk (the last chunk is shorter). */
export const CHUNK = 1 << 20;

/** The underlying source of an export stream (structural: Node's types have no DOM lib). */
export interface ExportSource {
  start(c: ReadableStreamDefaultController<Uint8Array>): void;
  pull(c: ReadableStreamDefaultController<Uint8Array>): Promise<void>;
  cancel(reason?: unknown): Promise<void>;
}

/**
 * @internal The underlying source of an export stream: each pull reads the next CHUNK bytes
 * from the engine's exporter, which keeps its place between pulls (glue_snapshot.c).
 */
export function exportSource(ep: Endpoint, o: ExportSnapshotOptions): ExportSource {
  let snap: Promise<number> | undefined;
  let over = false;
  let ctrl: ReadableStreamDefaultController<Uint8Array> | undefined;
  let rest: Uint8Array = new Uint8Array(0), last = false, sent = 0, t0 = 0; // throttle: the chunk not yet handed out
  const begin = () => (snap ??= ep.call('snapBegin', { since: o.since ?? 0 }).then((r) => r.snap));
  /** End the export once (cancel: through the engine's cancel flag, which rejects ECANCELED). */
  const end = async (cancel: boolean): Promise<void> => {
    if (over) return;
    over = true;
    o.signal?.removeEventListener('abort', onAbort);
    if (!snap) {
      if (cancel) throw new PagedbError(ErrorCode.ECANCELED, 'snapshot export cancelled before it began');
      return;
    }
    let s: number;
    try {
      s = await snap;
    } catch {
      return; // the begin failed: nothing to end
    }
    await ep.call('snapEnd', { snap: s, cancel });
  };
  const onAbort = () => {
    end(true).then(
      () => ctrl?.error(new PagedbError(ErrorCode.ECANCELED, 'snapshot export aborted')),
      (e) => ctrl?.error(e),
    );
  };
  return {
    start(c) {
      ctrl = c;
      if (o.since !== undefined && (!Number.isSafeInteger(o.since) || o.since < 0))
        throw new PagedbError(ErrorCode.EINVAL, `since must be a txn id >= 0, not ${o.since}`);
      if (o.rate !== undefined && !(typeof o.rate === 'number' && o.rate >= 0 && Number.isFinite(o.rate)))
        throw new PagedbError(ErrorCode.EINVAL, `rate must be a number of bytes per second >= 0, not ${o.rate}`);
      if (o.signal?.aborted) {
        over = true;
        throw new PagedbError(ErrorCode.ECANCELED, 'snapshot export aborted before it began');
      }
      o.signal?.addEventListener('abort', onAbort);
    },
    async pull(c) {
      if (over) return;
      if (o.rate && rest.length) {
        // throttled: the next piece of the chunk, once its bytes are due at the rate (a
        // piece is 1/8 s of bytes, so the wait is at most about that: not abortable)
        const piece = rest.slice(0, Math.max(1, o.rate / 8));
        rest = rest.subarray(piece.length);
        sent += piece.length;
        await new Promise((r) => setTimeout(r, (sent * 1000) / o.rate! - (Date.now() - t0)));
        if (over) return; // aborted meanwhile: the abort handler errors the stream
        c.enqueue(piece);
        if (!rest.length && last) {
          await end(false);
          c.close();
        }
        return;
      }
      const s = await begin();
      t0 ||= Date.now();
      let r;
      try {
        r = await ep.call('snapNext', { snap: s, window: CHUNK });
      } catch (e) {
        over = true; // the engine ended the export
        o.signal?.removeEventListener('abort', onAbort);
        throw e;
      }
      if (over) return; // aborted meanwhile: the abort handler errors the stream
      o.onProgress?.(r.progress);
      if (o.rate && r.bytes.length) {
        rest = r.bytes;
        last = r.done;
        return this.pull(c);
      }
      if (r.bytes.length) c.enqueue(r.bytes);
      if (r.done) {
        await end(false);
        c.close();
      }
    },
    async cancel() {
      try {
        await end(true);
      } catch {
        /* ECANCELED: what a cancel is */
      }
    },
  };
}
