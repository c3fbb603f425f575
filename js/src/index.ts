/**
 * index.ts — the package entry in browsers: `open()` starts a dedicated module Worker
 * (worker.js, resolved with new URL(..., import.meta.url) so bundlers find it) that runs
 * the engine on OPFS, and returns the promise API. No SharedArrayBuffer and no COOP/COEP
 * headers are needed. The worker is terminated on close and on `pagehide`, which releases
 * the OPFS access handles so a reload never finds the database locked.
 */
import { Database } from './database.js';
import { PagedbError, ErrorCode } from './errors.js';
import type { Endpoint, OpArgs, OpResults, Op, Response } from './protocol.js';
import type { OpenOptions } from './types.js';

export * from './errors.js';
export * from './types.js';
export { Database, Segment, SEGMENT_BATCH_BYTES } from './database.js';
export type { ReadTxn, WriteTxn, ReadTable, WriteTable, ReadSegments, WriteSegments, Segments } from './database.js';

/**
 * Open (by default create) the database `name` in this origin's OPFS. Rejects with
 * PagedbError: EBUSY (open in another tab), EKEY (wrong key/passphrase), EINVAL, EFULL...
 */
export async function open(name: string, options: OpenOptions): Promise<Database> {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: `pagedb:${name}` });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let next = 1;
  let dead: PagedbError | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    worker.addEventListener('message', (ev: MessageEvent) => {
      const d = ev.data as Response | { ready: true };
      if ('ready' in d) return resolve();
      const p = pending.get(d.id);
      if (!p) return;
      pending.delete(d.id);
      if (d.ok) p.resolve(d.result);
      else p.reject(new PagedbError(d.code, d.message));
    });
    worker.addEventListener('error', (ev) => {
      dead = new PagedbError(ErrorCode.EIO, `worker failed: ${(ev as ErrorEvent).message ?? 'unknown error'}`);
      for (const p of pending.values()) p.reject(dead);
      pending.clear();
      reject(dead);
    });
  });
  const terminate = () => {
    worker.terminate();
    dead = new PagedbError(ErrorCode.EMISUSE, 'database is closed');
    for (const p of pending.values()) p.reject(dead);
    pending.clear();
    globalThis.removeEventListener?.('pagehide', terminate);
  };
  globalThis.addEventListener?.('pagehide', terminate);
  const ep: Endpoint = {
    call<K extends Op>(op: K, args: OpArgs[K], transfer?: ArrayBuffer[]): Promise<OpResults[K]> {
      if (dead) return Promise.reject(dead);
      const id = next++;
      return new Promise<OpResults[K]>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        worker.postMessage({ id, op, args }, { transfer: transfer ?? [] });
      });
    },
  };
  try {
    await ready;
    await ep.call('open', { name, options });
  } catch (e) {
    terminate();
    throw e;
  }
  return new Database(ep, terminate);
}
