/**
 * node.ts — the package entry under Node (package.json "exports" condition "node"): the
 * same promise API as in the browser, with the engine in-process on node:fs. Calls are
 * coalesced into batches exactly as in the browser (batch.ts), so both run one code path.
 */
import * as fs from 'node:fs';
import createModule from './pagedb.node.mjs';
import { Database } from './database.js';
import { Coalescer } from './batch.js';
import { Handler } from './handler.js';
import { NodeBackend, discardFailedCreate, probeCreate } from './node_backend.js';
import { SyncDatabase, testModeHook, type EmModule } from './engine.js';
import type { OpenOptions } from './types.js';
import { databaseName, openOptions } from './validate.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { setWriteContext, type WriteFrame } from './write_context.js';

// Under Node a write callback's whole asynchronous continuation is known to be inside it
// (write_context.ts), so a nested db.write is refused with EMISUSE wherever it is made.
const writeFrames = new AsyncLocalStorage<readonly WriteFrame[]>();
setWriteContext({
  exact: true,
  run: (frame, fn) => writeFrames.run([...(writeFrames.getStore() ?? []), frame], fn),
  inside: (db) => (writeFrames.getStore() ?? []).some((f) => f.db === db && !f.done),
});

export * from './errors.js';
export * from './types.js';
export { Database, Segment, SEGMENT_BATCH_BYTES } from './database.js';
export type { ReadTxn, WriteTxn, ReadTable, WriteTable, ReadSegments, WriteSegments, Segments, WriteOptions } from './database.js';
export type { Change, ChangedTableInfo, SubscribeOptions } from './subscribe.js';
export { SyncDatabase, SyncTxn, SyncSegment, SEGMENT_IO_BYTES } from './engine.js';

/**
 * Instantiate a fresh wasm module with the node:fs backend rooted at `options.directory`.
 * The deterministic test mode is enabled in the module's environment only when the
 * options explicitly ask for it (the C core refuses it otherwise).
 */
async function loadModule(options: OpenOptions): Promise<EmModule> {
  const wasmBinary = fs.readFileSync(new URL('./pagedb.wasm', import.meta.url));
  const m = await createModule({ wasmBinary, preRun: [testModeHook(options)] });
  m.pagedbVfs = new NodeBackend(options.directory);
  return m;
}

/**
 * Open (by default create) the database directory `name` (a path relative to
 * `options.directory`, default the current directory, or absolute). Options are checked
 * first (validate.ts). Creating is all or nothing: a failed create leaves no main.pdb and
 * no directory it made. Read-write opens take an exclusive OS file lock (node_backend.ts:
 * fcntl OFD on Linux), read-only opens a shared one, excluding other handles of this
 * process, other Node processes and the native CLI alike; the lock dies with the process.
 * Rejects with PagedbError: EINVAL (bad name or option), EBUSY (open read-write
 * elsewhere, or read-only elsewhere for a read-write open), EKEY (wrong key or
 * passphrase), ENOTFOUND (absent and create: false or readOnly), ENOTDB, EVERSION,
 * EAUTH/ECORRUPT, ENOTSUP (a cipher this build does not know), ENOMEM (cacheBytes below 64
 * pages), EIO, EFULL. Thread-safety: the Database belongs to this event loop.
 */
export async function open(name: string, options: OpenOptions): Promise<Database> {
  databaseName(name, true);
  options = openOptions(options);
  const h = new Handler(await loadModule(options), undefined, () => import('./rotate_engine.js'),
    (o) => import('./module_full_node.js').then((f) => f.loadFullModule(o)));
  // the same batches as in the browser, run in-process one after another
  let chain: Promise<void> = Promise.resolve();
  const ep: Coalescer = new Coalescer((msg) => {
    chain = chain.then(() => h.runBatch(msg, (r) => ep.receive(r.msg)));
  });
  const probe = probeCreate(options.directory, name);
  try {
    await ep.call('open', { name, options });
  } catch (e) {
    discardFailedCreate(probe);
    throw e;
  }
  return new Database(ep);
}

/**
 * The synchronous API in this thread (no promise per call): same name, options, locking,
 * all-or-nothing create and errors as {@link open}; the returned SyncDatabase throws
 * instead of rejecting.
 */
export async function openSync(name: string, options: OpenOptions): Promise<SyncDatabase> {
  databaseName(name, true);
  options = openOptions(options);
  const m = await loadModule(options);
  const probe = probeCreate(options.directory, name);
  try {
    return SyncDatabase.open(m, name, options);
  } catch (e) {
    discardFailedCreate(probe);
    throw e;
  }
}
export { deleteDatabase, listDatabases, type ManageOptions } from './manage_node.js';
export * from './api.js';
export { importSnapshot, type ImportSnapshotOptions, type SnapshotProgress } from './snapshot_node.js';
export type { ExportSnapshotOptions } from './snapshot_stream.js';
