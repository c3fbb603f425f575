/**
 * local.ts — the engine in this thread, for an owner that is itself a dedicated worker.
 *
 * OPFS sync access handles exist in dedicated workers, so when `open()` of the promise API
 * is called inside one and this context wins the owner election (tabs.ts), the owner
 * (owner.ts) runs the engine here instead of starting a worker of its own: every call of
 * the promise API resolves through the synchronous engine (SyncDatabase, through
 * handler.ts) in this thread, with no message hop and no encoding: each call runs the op
 * table every endpoint shares (Handler.run; see LocalEndpoint for the two exceptions that
 * go through the batch path of worker.ts and node.ts). The owner still serves every other context (tabs, other
 * workers, the service worker) through its sessions.
 *
 * Reached through the `pagedb/dedicated-worker` entry (dedicated_worker.ts registers
 * openLocal with owner.ts), or loaded at run time by owner.ts when the package is used as
 * published ES modules; never part of a page's bundle, so a tab's first load does not
 * carry it.
 *
 * Not supported here: OpenOptions.testFaults (the test-only write stalls of worker.ts).
 * Thread-safety: the dedicated worker's own thread; one LocalEngine per open database.
 */
import { Coalescer } from './batch.js';
import { Handler, toWire } from './handler.js';
import { loadModule } from './module_browser.js';
import { OpfsBackend } from './opfs_backend.js';
import { PagedbError, ErrorCode } from './errors.js';
import type { Endpoint, Op, OpArgs, OpResults } from './protocol.js';
import type { OpenOptions } from './types.js';

/**
 * The endpoint of the engine in this thread. Each call runs at once, synchronously, through
 * Handler.run (the op table every endpoint shares) and resolves with its result; no
 * encoding, no batch, no message. Two exceptions keep the order of calls and answers:
 *  - segCreate creates its OPFS file asynchronously, and the first rotateStep or compactStep loads the
 *    full module (Handler.runBatch), so both go through a Coalescer to Handler.runBatch (as
 *    in worker.ts and node.ts), and every call made while such a batch is unanswered
 *    follows it through the same queue;
 *  - when an op left deferred OPFS work (a segment file to remove: OpfsBackend.settle),
 *    its answer, and every later answer, waits until that work is done (an answer never
 *    precedes the work of its op, as in runBatch).
 * Errors reject with PagedbError (handler.ts toWire: the engine's code and message).
 */
export class LocalEndpoint implements Endpoint {
  private batches: Coalescer;
  private queued = 0; // calls handed to `batches` and not yet answered
  private settling: Promise<void> | undefined; // deferred OPFS work in progress
  private dead: PagedbError | undefined;

  /** @internal */
  constructor(private h: Handler, private backend: OpfsBackend) {
    let chain: Promise<void> = Promise.resolve();
    const b: Coalescer = new Coalescer((msg) => {
      chain = chain.then(() => (this.dead ? undefined : h.runBatch(msg, (r) => b.receive(r.msg))));
    });
    this.batches = b;
  }

  call<K extends Op>(op: K, args: OpArgs[K], transfer?: ArrayBuffer[]): Promise<OpResults[K]> {
    if (this.dead) return Promise.reject(this.dead);
    if (op === 'segCreate' || op === 'rotateStep' || op === 'compactStep' || this.queued > 0) {
      this.queued++;
      const p = this.batches.call(op, args, transfer);
      const done = (): void => {
        this.queued--;
      };
      p.then(done, done);
      return p;
    }
    let r: OpResults[K];
    try {
      r = this.h.run(op, args);
    } catch (e) {
      const w = toWire(e);
      return Promise.reject(new PagedbError(w.code, w.message));
    }
    if (!this.backend.deferred && !this.settling) return Promise.resolve(r);
    const prev = this.settling ?? Promise.resolve();
    const s: Promise<void> = prev.then(() => this.backend.settle()).catch(() => undefined);
    this.settling = s;
    s.then(() => {
      if (this.settling === s) this.settling = undefined;
    });
    return s.then(() => r);
  }

  /** Every later call rejects with `why`; calls queued behind a segCreate too. */
  fail(why: PagedbError): void {
    this.dead = why;
    this.batches.fail(why);
  }
}

/** The database open in this thread: the endpoint its calls go to, and how to let it go. */
export interface LocalEngine {
  /** Runs protocol ops in this thread (see LocalEndpoint). */
  ep: LocalEndpoint;
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
  try {
    const m = await loadModule(options);
    m.pagedbVfs = backend;
    const ep = new LocalEndpoint(new Handler(m, () => backend.releaseAll()), backend);
    await ep.call('open', { name, options });
    let released = false;
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
    await backend.discardFailedCreate(); // also releases every handle
    throw e instanceof PagedbError ? e : new PagedbError(ErrorCode.EIO, String(e));
  }
}
