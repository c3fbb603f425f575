/**
 * rotate.ts — switching an open database from the first-load module to the full module,
 * for data key rotation (db.rotateKeys, docs/FORMAT.md §13.3).
 *
 * The module every endpoint loads first (dist/pagedb.wasm) is built without data key
 * rotation (-DPAGEDB_NO_ROTATE, scripts/build-emscripten.sh): the rotation walker is about
 * 5 kB gzip and the browser's first load has no room for it. The full module
 * (dist/pagedb-full.wasm, same engine plus rotation, platform/opfs/glue_rotate.c) is
 * loaded here on the first rotation step, through the endpoint's loader
 * (Handler.loadFull: module_full_browser.ts in workers, module_full_node.ts under Node),
 * never before: this file itself is reached only through import() from handler.ts, so
 * bundlers put it and the full module's glue into lazily loaded chunks.
 *
 * The switch (toFull), run by Handler.runBatch as the first rotateStep's own work, so no
 * other request of this handler runs meanwhile (every endpoint runs batches one at a
 * time; requests that arrive wait in their queue):
 *  1. the handler must be quiescent: no transaction, segment handle or snapshot export
 *     open (each holds engine state of the first module). Otherwise EBUSY at once (never
 *     a wait inside the batch, which would block the requests that end them); the caller
 *     (Database.rotateKeys) retries for a bounded time.
 *  2. the full module is instantiated with the open's options (its test-mode hook too) and
 *     given the same storage backend (m.pagedbVfs: the OPFS access handles or node:fs
 *     paths stay as they are; only VFS handles are closed and opened again);
 *  3. deferred backend work is settled, the database is closed in the first module (a
 *     clean close: everything committed is in the files) and opened in the full module
 *     with the same options and the credential it opens with now (after a db.rekey, the
 *     new one), never creating;
 *  4. from then on every op of the handler runs in the full module until the database
 *     closes. If the reopen fails (e.g. ENOMEM for the second heap), the database is
 *     opened again in the first module and the reopen's error is thrown; if that fails
 *     too, the handler has no database (later ops: EMISUSE "database is not open").
 * Under Node the OS lock (node_backend.ts) is released between the close and the reopen
 * (a few milliseconds): another process opening the database read-write in that window
 * gets it, and the reopen then fails with EBUSY.
 * Thread-safety: the handler's thread, inside its batch queue.
 */
import { SyncDatabase } from './engine.js';
import { PagedbError, ErrorCode } from './errors.js';
import type { Handler } from './handler.js';

/**
 * Move handler `h`'s open database to the full module (see the file header). Throws
 * PagedbError: EMISUSE (no database open), ENOTSUP (the endpoint has no loader for the
 * full module), EBUSY (transactions, segment handles or snapshot exports open: the message
 * counts them), what loading the module throws (EIO for a failed fetch), and the reopen's
 * errors (EBUSY, ENOMEM, EIO, EKEY when another handle changed the key meanwhile).
 */
export async function toFull(h: Handler): Promise<void> {
  const db = h['db'], a = h['opened'];
  if (!db || !a) throw new PagedbError(ErrorCode.EMISUSE, 'database is not open');
  if (!h.loadFull) throw new PagedbError(ErrorCode.ENOTSUP, 'data key rotation needs the full module, which this endpoint cannot load');
  const busy = (): void => {
    const t = h['txns'].size, s = h['segs'].size, x = (h['snaps'] as unknown as { exports: Map<number, unknown> }).exports.size;
    if (t + s + x)
      throw new PagedbError(ErrorCode.EBUSY, `data key rotation switches the database to the full module, which needs it idle: ` +
        `${t} transaction(s), ${s} segment handle(s) and ${x} snapshot export(s) are open; close them and call again`);
  };
  busy();
  const old = h['m'];
  let m;
  try {
    m = await h.loadFull(a.options);
  } catch (e) {
    throw e instanceof PagedbError ? e : new PagedbError(ErrorCode.EIO, `loading the full module (dist/pagedb-full.wasm): ${String(e)}`);
  }
  m.pagedbVfs = old.pagedbVfs;
  await h['settle']();
  busy(); // nothing can have opened meanwhile (the batch queue), but never switch under open state
  const cred = db.credential();
  const o = { ...a.options, key: cred.key, passphrase: cred.passphrase, create: false };
  db.close();
  try {
    h['db'] = SyncDatabase.open(m, a.name, o);
    h['m'] = m;
  } catch (e) {
    try {
      h['db'] = SyncDatabase.open(old, a.name, o);
    } catch {
      h['db'] = undefined;
    }
    throw e;
  }
}
