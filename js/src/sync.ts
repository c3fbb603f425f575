/**
 * sync.ts — the synchronous API for code that already runs in a dedicated worker:
 * `const db = await openInWorker(name, opts)` (async only to open the OPFS access handles
 * and load the module), then every call on the returned SyncDatabase is synchronous —
 * except creating a segment, which needs a new OPFS file: `await db.createSegmentAsync()`
 * (db.createSegment throws ENOTSUP on OPFS unless the file was prepared), and
 * `await db.settle()` after deleting or unlinking segments removes their files from OPFS
 * (otherwise the next read-write open removes them).
 */
import { SyncDatabase } from './engine.js';
import { loadModule } from './module_browser.js';
import { OpfsBackend } from './opfs_backend.js';
import type { OpenOptions } from './types.js';
import { databaseName, openOptions } from './validate.js';

export { SyncDatabase, SyncTxn, SyncSegment, SEGMENT_IO_BYTES } from './engine.js';
export * from './errors.js';
export * from './types.js';

/** Open `name` on OPFS for synchronous use in this worker. Close it to release the files. */
export async function openInWorker(name: string, options: OpenOptions): Promise<SyncDatabase> {
  databaseName(name, false);
  options = openOptions(options);
  const backend = await OpfsBackend.prepare(name, options.create ?? true);
  try {
    const m = await loadModule(options);
    m.pagedbVfs = backend;
    return SyncDatabase.open(m, name, options);
  } catch (e) {
    await backend.discardFailedCreate();
    throw e;
  }
}
