/**
 * index.ts — the package entry in browsers: `open()` starts a dedicated module Worker
 * (worker.js, resolved with new URL(..., import.meta.url) so bundlers find it) that runs
 * the engine on OPFS, and returns the promise API. No SharedArrayBuffer and no COOP/COEP
 * headers are needed. The worker is terminated on close, and on `pagehide`/`freeze`,
 * which releases the OPFS access handles so a reload never finds the database locked; a
 * page restored from the back/forward cache (or unfrozen) opens the database again
 * transparently (lifecycle.ts). Calls reach the worker through a Coalescer (batch.ts):
 * the calls of one tick travel as one message.
 */
import { Database } from './database.js';
import { requireCapabilities } from './capabilities.js';
import { TabEndpoint, inServiceWorker } from './tabs.js';
import type { OpenOptions } from './types.js';
import { databaseName, openOptions } from './validate.js';

export * from './errors.js';
export * from './types.js';
export { Database, Segment, SEGMENT_BATCH_BYTES } from './database.js';
export type { ReadTxn, WriteTxn, ReadTable, WriteTable, ReadSegments, WriteSegments, Segments, WriteOptions } from './database.js';
export type { Change, ChangedTableInfo, SubscribeOptions } from './subscribe.js';

/**
 * Open (by default create) the database `name` (one OPFS directory name: 1..255
 * characters, no "/", "\\" or NUL, not "." or "..") in this origin's OPFS. Options are
 * checked first (validate.ts); creating is all or nothing (a failed create removes the
 * empty main.pdb and directory it made). The database is released on `pagehide`/`freeze`
 * and reopened on `pageshow`/`resume` (see lifecycle.ts for what happens to calls,
 * transactions and segments meanwhile). Rejects with PagedbError: EINVAL (bad name or
 * option), EBUSY (open in another tab or worker), EKEY (wrong key/passphrase), ENOTFOUND
 * (absent and create: false), ENOTSUP (aes256gcm), ENOMEM, EFULL (quota), EIO.
 */
export async function open(name: string, options: OpenOptions): Promise<Database> {
  databaseName(name, false);
  options = openOptions(options);
  const sw = inServiceWorker();
  requireCapabilities(!sw);
  const ep = await TabEndpoint.open(name, options, !sw);
  return new Database(ep);
}
export { deleteDatabase, listDatabases } from './manage.js';
export { CapabilityError } from './capabilities.js';
export { requestPersistence } from './storage.js';
export type { StorageInfo } from './storage.js';
export * from './api.js';
