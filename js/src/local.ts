/**
 * local.ts — the engine in this thread, for an owner that is itself a dedicated worker.
 *
 * OPFS sync access handles exist in dedicated workers, so when `open()` of the promise API
 * is called inside one and this context wins the owner election (tabs.ts), the owner
 * (owner.ts) runs the engine here instead of starting a worker of its own: every call of
 * the promise API resolves through the synchronous engine (SyncDatabase, through
 * handler.ts) in this thread, with no message hop. Calls are coalesced into the same
 * batches as everywhere else (batch.ts, wire.ts) and run one batch after another, exactly
 * like node.ts does in-process, so the browser worker, the owner's worker (worker.ts) and
 * Node run one code path. The owner still serves every other context (tabs, other
 * workers, the service worker) through its sessions.
 *
 * Loaded with a dynamic import from owner.ts only when needed, so a tab's first load does
 * not carry the wasm glue.
 *
 * Not supported here: OpenOptions.testFaults (the test-only write stalls of worker.ts).
 * Thread-safety: the dedicated worker's own thread; one LocalEngine per open database.
 */
import { Coalescer } from './batch.js';
import { Handler } from './handler.js';
import { loadModule } from './module_browser.js';
import { OpfsBackend } from './opfs_backend.js';
import { PagedbError, ErrorCode } from './errors.js';
import type { OpenOptions } from './types.js';

/** True when this global scope is a dedicated worker with OPFS sync access handles. */
export function canRunLocally(): boolean {
  const g = globalThis as unknown as {
    DedicatedWorkerGlobalScope?: unknown;
    FileSystemFileHandle?: { prototype: object };
  };
  return typeof g.DedicatedWorkerGlobalScope === 'function' && globalThis instanceof (g.DedicatedWorkerGlobalScope as never)
    && !!g.FileSystemFileHandle && 'createSyncAccessHandle' in g.FileSystemFileHandle.prototype;
}

/** The database open in this thread: the endpoint its calls go to, and how to let it go. */
export interface LocalEngine {
  /** Runs protocol ops in this thread (batched per tick, batches in call order). */
  ep: Coalescer;
  /**
   * Release the OPFS access handles now (after close, or instead of it: like a crash,
   * that loses nothing committed, FORMAT.md §6); later calls reject with `why`.
   */
  release(why: PagedbError): void;
}

/**
 * Open `name` in this thread: OPFS directory and access handles (OpfsBackend.prepare:
 * EBUSY while another context still holds them), a fresh wasm module, then the `open` op.
 * Rejects with the open's PagedbError (EKEY, ENOTFOUND, ENOTDB, EVERSION, EAUTH, ENOMEM,
 * EFULL, EIO, EBUSY); a failed create removes what it created, and a failed open releases
 * every handle it took.
 */
export async function openLocal(name: string, options: OpenOptions): Promise<LocalEngine> {
  const backend = await OpfsBackend.prepare(name, options.create ?? true);
  let released = false;
  try {
    const m = await loadModule(options);
    m.pagedbVfs = backend;
    const h = new Handler(m, () => backend.releaseAll());
    let chain: Promise<void> = Promise.resolve();
    const ep: Coalescer = new Coalescer((msg) => {
      chain = chain.then(() => (released ? undefined : h.runBatch(msg, (r) => ep.receive(r.msg))));
    });
    await ep.call('open', { name, options });
    return {
      ep,
      release: (why) => {
        if (released) return;
        released = true;
        ep.fail(why);
        backend.releaseAll();
      },
    };
  } catch (e) {
    released = true;
    await backend.discardFailedCreate(); // also releases every handle
    throw e instanceof PagedbError ? e : new PagedbError(ErrorCode.EIO, String(e));
  }
}
