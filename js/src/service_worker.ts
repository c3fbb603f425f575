/**
 * service_worker.ts — the package entry for service workers (`pagedb/service-worker`):
 * everything of the browser entry (index.ts), plus the read-only path a service worker
 * uses while no tab has the database open (snapshot.ts: the files read with getFile()
 * into memory, the engine run in the service worker on that copy; writes refused with
 * ENOTSUP). While a tab has the database open, open() works through that tab (tabs.ts),
 * reads and writes alike. Kept apart from index.ts so page bundles do not carry a second
 * copy of the Emscripten glue. Cache pagedb.wasm (next to this file) in Cache Storage when
 * the service worker installs, so the snapshot can start offline.
 */
import { SnapshotEndpoint } from './snapshot.js';
import { TabEndpoint } from './tabs.js';

TabEndpoint.snapshotOpener = (name, options) => SnapshotEndpoint.open(name, options);

export * from './index.js';
/** URL of pagedb.wasm, to put in Cache Storage at install (the snapshot loads it from there offline). */
export const wasmUrl: string = new URL('./pagedb.wasm', import.meta.url).href;
