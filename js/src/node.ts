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
import { NodeBackend } from './node_backend.js';
import { SyncDatabase, testModeHook, type EmModule } from './engine.js';
import type { OpenOptions } from './types.js';

export * from './errors.js';
export * from './types.js';
export { Database, Segment, SEGMENT_BATCH_BYTES } from './database.js';
export type { ReadTxn, WriteTxn, ReadTable, WriteTable, ReadSegments, WriteSegments, Segments } from './database.js';
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
 * Open (by default create) the database directory `name` (relative to
 * `options.directory`, default the current directory). Rejects with PagedbError:
 * EKEY (wrong key/passphrase), EBUSY (open elsewhere in this process), EINVAL, EIO...
 */
export async function open(name: string, options: OpenOptions): Promise<Database> {
  const h = new Handler(await loadModule(options));
  // the same batches as in the browser, run in-process one after another
  let chain: Promise<void> = Promise.resolve();
  const ep: Coalescer = new Coalescer((msg) => {
    chain = chain.then(() => h.runBatch(msg, (r) => ep.receive(r.msg)));
  });
  await ep.call('open', { name, options });
  return new Database(ep);
}

/** The synchronous API in this thread (no promise per call). */
export async function openSync(name: string, options: OpenOptions): Promise<SyncDatabase> {
  return SyncDatabase.open(await loadModule(options), name, options);
}
export { deleteDatabase, listDatabases, type ManageOptions } from './manage_node.js';
export * from './api.js';
