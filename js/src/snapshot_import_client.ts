/**
 * snapshot_import_client.ts — the page side of importSnapshot in browsers (see
 * snapshot_browser.ts for the contract): starts the import worker
 * (snapshot_import_worker.ts), hands it the stream chunk by chunk with at most
 * IN_FLIGHT_BYTES unacknowledged (memory stays bounded however large the stream), relays
 * the signal and the progress, and ends the worker after its answer. A stream not read to
 * its end (an error, an abort) is cancelled. Loaded on first use
 * (snapshot_browser.ts), so a page's first load does not carry it.
 */
import { PagedbError, ErrorCode } from './errors.js';
import type { SnapshotProgress } from './snapshot_engine.js';
import type { ImportJob } from './snapshot_import.js';
import type { OpenOptions } from './types.js';

/** Stream bytes sent to the worker and not yet spooled, at most (plus one chunk). */
export const IN_FLIGHT_BYTES = 8 << 20;

type Out = { t: 'ready' } | { t: 'ack'; n: number } | { t: 'done'; p: SnapshotProgress } | { t: 'err'; code: number; message: string };

/** Run the import of `stream` into `name` in a new worker (arguments checked by the caller). */
export async function importInWorker(name: string, stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, options: OpenOptions,
  signal: AbortSignal | undefined, onProgress: ((p: SnapshotProgress) => void) | undefined, testStopAfterRenames?: number): Promise<SnapshotProgress> {
  const w = new Worker(new URL('./snapshot_import_worker.js', import.meta.url), { type: 'module', name: `pagedb-import:${name}` });
  let sent = 0, acked = 0, ackWait: (() => void) | undefined;
  let settle!: { ok: (p: SnapshotProgress) => void; fail: (e: unknown) => void };
  let over = false;
  const result = new Promise<SnapshotProgress>((ok, fail) => (settle = { ok, fail }));
  const ready = new Promise<void>((r) => {
    w.onmessage = (ev: MessageEvent) => {
      const m = ev.data as Out;
      if (m.t === 'ready') r();
      else if (m.t === 'ack') {
        acked = m.n;
        onProgress?.({ pagesDone: 0, pagesTotal: 0, bytesDone: m.n, targetTxn: 0 });
        ackWait?.();
      } else {
        over = true;
        if (m.t === 'done') settle.ok(m.p);
        else settle.fail(new PagedbError(m.code, m.message));
        ackWait?.();
      }
    };
  });
  w.onerror = (ev) => {
    over = true;
    settle.fail(new PagedbError(ErrorCode.EIO, `snapshot import worker failed: ${ev.message ?? 'unknown error'}`));
    ackWait?.();
  };
  const onAbort = () => w.postMessage({ t: 'abort' });
  try {
    await Promise.race([ready, result]);
    const job: ImportJob = { name, options, testStopAfterRenames };
    w.postMessage({ t: 'start', job });
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) onAbort();
    // the stream's next chunk, and how to stop reading it early (also while a read is
    // pending: a ReadableStream's reader.cancel() settles it, so nothing waits on a source
    // that never answers)
    let next: () => Promise<IteratorResult<Uint8Array>>, stop: () => void;
    if (typeof (stream as ReadableStream<Uint8Array>).getReader === 'function') {
      const r = (stream as ReadableStream<Uint8Array>).getReader();
      next = () => r.read() as Promise<IteratorResult<Uint8Array>>;
      stop = () => void r.cancel().catch(() => undefined);
    } else {
      const it = (stream as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      next = () => it.next();
      stop = () => void it.return?.(undefined)?.catch(() => undefined);
    }
    let ended = false;
    try {
      for (;;) {
        const r = await Promise.race([next(), result.then(() => undefined, () => undefined)]);
        if (!r || over) break; // the worker answered (an early error): stop reading
        if (r.done) {
          ended = true;
          w.postMessage({ t: 'end' });
          break;
        }
        const c = r.value;
        if (!(c instanceof Uint8Array)) throw new PagedbError(ErrorCode.EINVAL, 'snapshot stream chunks must be Uint8Arrays');
        w.postMessage({ t: 'chunk', b: c });
        sent += c.length;
        while (!over && sent - acked > IN_FLIGHT_BYTES) await new Promise<void>((r) => (ackWait = r));
      }
    } catch (e) {
      w.postMessage({ t: 'abort' });
      await result.catch(() => undefined);
      throw e;
    } finally {
      if (!ended) stop();
    }
    return await result;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    w.terminate();
  }
}
