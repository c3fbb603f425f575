/**
 * index.ts — the package entry in browsers. `open()` joins the database's owner election
 * (tabs.ts): the tab that owns the database starts a dedicated module Worker (worker.js,
 * resolved with new URL(..., import.meta.url) so bundlers find it) that runs the engine on
 * OPFS; every other tab, and a service worker, sends its calls to the owner. A dedicated
 * worker that becomes the owner runs the engine in its own thread instead (local.ts; see
 * dedicated_worker.ts). The promise API is the same in every context. No SharedArrayBuffer and no COOP/COEP headers are
 * needed. On `pagehide`/`freeze` a tab gives the database up (worker, OPFS handles,
 * locks), so a reload never finds it locked and another tab takes over; on
 * `pageshow`/`resume` it joins again and the same Database keeps working.
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
 * characters, no "/", "\\" or NUL, not "." or "..") in this origin's OPFS, from a tab, a
 * worker or a service worker. Options are checked first (validate.ts); creating is all or
 * nothing (a failed create removes the empty main.pdb and directory it made). When another
 * tab already owns the database, the returned Database works through it (tabs.ts: failover,
 * UNKNOWN_OUTCOME, what happens on pagehide/freeze). Rejects with PagedbError: EINVAL (bad
 * name or option), CapabilityError (ENOTSUP naming a missing browser feature), EKEY (wrong
 * key/passphrase, or not the one the owning tab opened it with), ENOTFOUND (absent and
 * create: false), ENOTSUP (in a service worker: a write while no tab has the database open),
 * EBUSY (no context could serve it within 15 s), ENOMEM, EFULL (quota), EIO.
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
export { importSnapshot, type ImportSnapshotOptions } from './snapshot_browser.js';
export type { ExportSnapshotOptions, SnapshotProgress } from './snapshot_stream.js';
