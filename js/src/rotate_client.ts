/**
 * rotate_client.ts — the step loop of db.rotateKeys and db.compact (database.ts), loaded
 * by import() on the first call of either so that it is not part of a page's first load.
 * Each step is one `rotateStep` or `compactStep` op queued with the database's writes (in
 * browsers it passes the owner's write gate, so other tabs' requests run between steps);
 * the first one switches the engine to the full module (rotate_engine.ts).
 * Thread-safety: the Database's event loop.
 */
import type { Database } from './database.js';
import { PagedbError, ErrorCode } from './errors.js';
import type { Endpoint, OpArgs, OpResults } from './protocol.js';
import type { CompactOptions, MaintenanceProgress, RotateKeysOptions } from './types.js';

/** Wait `ms` milliseconds, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((res) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      res();
    }
    signal?.addEventListener('abort', done);
  });
}

/**
 * Run steps of `op` (rotateStep: data key rotation of `args.realm`; compactStep: online
 * compaction) until done (see Database.rotateKeys and Database.compact for the contract),
 * with the options database.ts checked: `o` for signal and onProgress; rate (bytes/s, 0 =
 * unthrottled), pagesPerStep (in `args`, 0 = 256) and busyTimeout (ms: how long EBUSY
 * answers are retried, every 50 ms). `what` names the operation in ECANCELED/EBUSY
 * messages. Rejects as Database.rotateKeys / Database.compact.
 */
export async function runSteps<K extends 'rotateStep' | 'compactStep'>(db: Database, op: K, args: Omit<OpArgs[K], 'full'>,
  o: RotateKeysOptions | CompactOptions, rate: number, busyTimeout: number, what: string): Promise<MaintenanceProgress> {
  const ep = db['ep'] as Endpoint;
  // where the engine loads the full module from, in browsers (rotate_engine.ts): resolved
  // here, in the page's lazily loaded chunk, so bundlers emit both files as assets of this
  // chunk (never of the first load); Node ignores them (module_full_node.ts)
  const full = {
    engine: new URL('./rotate_engine.js', import.meta.url).href,
    glue: new URL('./pagedb-full.browser.mjs', import.meta.url).href,
    wasm: new URL('./pagedb-full.wasm', import.meta.url).href,
  };
  const t0 = Date.now();
  let bytes = 0, steps = 0, busySince = 0;
  for (;;) {
    if (o.signal?.aborted) throw new PagedbError(ErrorCode.ECANCELED, `${what} aborted after ${steps} steps (resumable: call it again)`);
    let r: OpResults[K];
    try {
      r = await db['enqueue'](() => ep.call(op, { ...args, full } as OpArgs[K]));
    } catch (e) {
      if (e instanceof PagedbError && e.code === ErrorCode.UNKNOWN_OUTCOME) continue; // resumable: run it again
      if (e instanceof PagedbError && e.code === ErrorCode.EBUSY) {
        busySince ||= Date.now();
        const left = busySince + busyTimeout - Date.now();
        if (left > 0) {
          await pause(Math.min(50, left), o.signal);
          continue;
        }
        throw new PagedbError(ErrorCode.EBUSY, `${e.message.replace(/^PAGEDB_[A-Z_]+: /, '')} (still busy after ${busyTimeout} ms; ${steps} steps done, resumable)`);
      }
      throw e;
    }
    busySince = 0;
    bytes += r.progress.bytesWritten;
    const p: MaintenanceProgress = { ...r.progress, bytesWritten: bytes, steps: ++steps };
    o.onProgress?.(p);
    if (r.done) return p;
    // the throttle: wait until `bytes` at `rate` are due (or the signal aborts)
    const wait = rate ? (bytes * 1000) / rate - (Date.now() - t0) : 0;
    if (wait > 0 && !o.signal?.aborted) await pause(wait, o.signal);
  }
}
