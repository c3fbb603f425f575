/**
 * index.ts — the package entry in browsers: `open()` starts a dedicated module Worker
 * (worker.js, resolved with new URL(..., import.meta.url) so bundlers find it) that runs
 * the engine on OPFS, and returns the promise API. No SharedArrayBuffer and no COOP/COEP
 * headers are needed. The worker is terminated on close and on `pagehide`, which releases
 * the OPFS access handles so a reload never finds the database locked. Calls reach the
 * worker through a Coalescer (batch.ts): the calls of one tick travel as one message.
 */
import { Database } from './database.js';
import { PagedbError, ErrorCode } from './errors.js';
import { Coalescer } from './batch.js';
import type { WireAnswers } from './wire.js';
import type { OpenOptions } from './types.js';
import { databaseName, openOptions } from './validate.js';

export * from './errors.js';
export * from './types.js';
export { Database, Segment, SEGMENT_BATCH_BYTES } from './database.js';
export type { ReadTxn, WriteTxn, ReadTable, WriteTable, ReadSegments, WriteSegments, Segments } from './database.js';

/**
 * Open (by default create) the database `name` (one OPFS directory name: 1..255
 * characters, no "/", "\\" or NUL, not "." or "..") in this origin's OPFS. Options are
 * checked first (validate.ts); creating is all or nothing (a failed create removes the
 * empty main.pdb and directory it made). Rejects with PagedbError: EINVAL (bad name or
 * option), EBUSY (open in another tab or worker), EKEY (wrong key/passphrase), ENOTFOUND
 * (absent and create: false), ENOTSUP (aes256gcm), ENOMEM, EFULL (quota), EIO.
 */
export async function open(name: string, options: OpenOptions): Promise<Database> {
  databaseName(name, false);
  options = openOptions(options);
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: `pagedb:${name}` });
  const ep = new Coalescer((msg, transfer) => worker.postMessage(msg, { transfer }));
  const ready = new Promise<void>((resolve, reject) => {
    worker.addEventListener('message', (ev: MessageEvent) => {
      const d = ev.data as WireAnswers | { ready: true };
      if ('ready' in d) return resolve();
      ep.receive(d);
    });
    worker.addEventListener('error', (ev) => {
      const dead = new PagedbError(ErrorCode.EIO, `worker failed: ${(ev as ErrorEvent).message ?? 'unknown error'}`);
      ep.fail(dead);
      reject(dead);
    });
  });
  const terminate = () => {
    worker.terminate();
    ep.fail(new PagedbError(ErrorCode.EMISUSE, 'database is closed'));
    globalThis.removeEventListener?.('pagehide', terminate);
  };
  globalThis.addEventListener?.('pagehide', terminate);
  try {
    await ready;
    await ep.call('open', { name, options });
  } catch (e) {
    terminate();
    throw e;
  }
  return new Database(ep, terminate);
}
