/**
 * dedicated_worker.ts — the package entry for dedicated workers (`pagedb/dedicated-worker`):
 * everything of the browser entry (index.ts), with the engine in this thread. When
 * `open()` is called in a dedicated worker and this context wins the database's owner
 * election (tabs.ts), the engine runs here (local.ts: each call of the promise API runs
 * the synchronous engine and resolves, no message hop; db.engineLocation is
 * 'this-thread'); it still serves every other context, and when another context owns the
 * database this worker is its client. The browser entry does the same when the package is
 * loaded as published ES modules; a bundler needs this entry to put local.ts into the
 * worker's bundle (kept out of index.ts so page bundles do not carry it).
 */
import { openLocal } from './local.js';
import { setLocalOpener } from './owner.js';

setLocalOpener(openLocal);

export * from './index.js';
