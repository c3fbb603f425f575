/**
 * lifecycle.ts — the browser connection to the engine's worker, kept across the page
 * lifecycle (back/forward cache and frozen pages).
 *
 * A page entering the back/forward cache (`pagehide` with `persisted`) or being frozen
 * (`freeze`, Page Lifecycle API) must not keep the database's OPFS access handles: they are
 * exclusive, so another tab could not open the database, and a page holding them may not
 * be cached at all. So on `pagehide` and `freeze` the worker is terminated, which releases
 * the handles (and, like a crash, loses nothing committed: a commit is all or nothing,
 * docs/FORMAT.md §6). On `pageshow` with `persisted` and on `resume` a new worker is
 * started and the database opened again with the same name and options — transparently:
 *
 *  - calls made while the page is hidden or frozen wait, and run once the database is open
 *    again (they never run against the old worker);
 *  - calls in flight at the moment the worker is terminated reject with PagedbError EIO
 *    ("interrupted by pagehide/freeze"): a commit in flight may or may not have happened;
 *  - transactions and segment handles of the old worker are gone: a transaction begun
 *    before rejects its next operation with EMISUSE (a `db.write` callback's commit
 *    rejects, nothing of it is committed), an open Segment rejects every operation with
 *    EMISUSE except close(), which resolves (reopen it with db.segments.open());
 *  - if opening again fails (the database was opened by another tab meanwhile: EBUSY;
 *    deleted: ENOTFOUND...) every later call rejects with that error; db.close() resolves.
 *
 * The name and options given to open() (including a copy of the key, or the passphrase)
 * are kept in memory until close() for the reopen; the copy of the key is zeroed by
 * close(). A database opened with the test-only `testSeed` is not reopened (its nonces
 * would repeat): it closes on pagehide/freeze and later calls reject with EMISUSE.
 */
import { PagedbError, ErrorCode } from './errors.js';
import { Coalescer } from './batch.js';
import type { Endpoint, OpArgs, OpResults, Op } from './protocol.js';
import type { WireAnswers } from './wire.js';
import type { OpenOptions } from './types.js';

type State = 'live' | 'suspended' | 'opening' | 'dead' | 'closed';

/** Starts a worker and opens the database in it; resolves with the worker's endpoint. */
interface Conn {
  worker: Worker;
  ep: Coalescer;
}

/** Ops whose args name a transaction of the worker (args.txn; 0 = none). */
const TXN_OPS = new Set<Op>(['get', 'scan', 'commit', 'abort', 'segGet', 'segList', 'tables', 'count']);
/** Ops whose args name a segment handle of the worker (args.seg). */
const SEG_OPS = new Set<Op>(['segAppend', 'segRead', 'segSync', 'segSeal', 'segStat', 'segVerify', 'segClose']);
/** Segment handle numbers are made unique across workers: generation * SEG_SPAN + worker's number. */
const SEG_SPAN = 2 ** 32;

/**
 * An Endpoint over the engine's worker that releases and reacquires the database on the
 * page lifecycle events (see the file header). Use {@link LifecycleEndpoint.open}.
 */
export class LifecycleEndpoint implements Endpoint {
  private state: State = 'opening';
  private conn: Conn | undefined;
  private gen = 0; // bumped at every (re)open
  private txnGen = new Map<number, number>(); // txn number -> generation it was begun in
  private ready: Promise<void> = Promise.resolve();
  private error: PagedbError | undefined;
  /** Number of times the database was released by pagehide/freeze (for tests). */
  suspensions = 0;
  /** Number of successful reopens after a suspension (for tests). */
  reopens = 0;

  private constructor(private name: string, private options: OpenOptions) {}

  /**
   * Start the worker and open `name`; resolves with the endpoint, listening to the page's
   * lifecycle events until close. Rejects with the open's PagedbError.
   */
  static async open(name: string, options: OpenOptions): Promise<LifecycleEndpoint> {
    const copy: OpenOptions = { ...options };
    if (options.key instanceof Uint8Array) copy.key = options.key.slice();
    const l = new LifecycleEndpoint(name, copy);
    try {
      l.conn = await l.connect();
    } catch (e) {
      l.wipe();
      throw e;
    }
    l.gen = 1;
    l.state = 'live';
    l.listen(true);
    return l;
  }

  private readonly onHide = (ev: Event): void => this.suspend(ev.type);
  private readonly onShow = (ev: Event): void => {
    if (ev.type === 'pageshow' && !(ev as PageTransitionEvent).persisted) return;
    this.resume();
  };

  private listen(on: boolean): void {
    const f = on ? globalThis.addEventListener : globalThis.removeEventListener;
    if (typeof f !== 'function') return;
    f.call(globalThis, 'pagehide', this.onHide);
    f.call(globalThis, 'pageshow', this.onShow);
    if (typeof document !== 'undefined') {
      const d = on ? document.addEventListener : document.removeEventListener;
      d.call(document, 'freeze', this.onHide);
      d.call(document, 'resume', this.onShow);
    }
  }

  /** A new worker with the database open in it. */
  private async connect(): Promise<Conn> {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: `pagedb:${this.name}` });
    const ep = new Coalescer((msg, transfer) => worker.postMessage(msg, { transfer }));
    const ready = new Promise<void>((resolve, reject) => {
      worker.addEventListener('message', (ev: MessageEvent) => {
        const d = ev.data as WireAnswers | { ready: true };
        if ('ready' in d) return resolve();
        ep.receive(d);
      });
      worker.addEventListener('error', (ev) => {
        const dead = new PagedbError(ErrorCode.EIO, `worker failed: ${(ev as ErrorEvent).message ?? 'unknown error'}`);
        ep.fail(dead);
        reject(dead);
      });
    });
    try {
      await ready;
      await ep.call('open', { name: this.name, options: this.options });
    } catch (e) {
      worker.terminate();
      ep.fail(new PagedbError(ErrorCode.EMISUSE, 'database is closed'));
      throw e;
    }
    return { worker, ep };
  }

  /** Terminate the worker (releasing the OPFS handles); calls wait for resume(). */
  private suspend(why: string): void {
    if (this.state !== 'live' && this.state !== 'opening') return;
    if (this.state === 'opening' && this.gen === 0) return; // the first open is still running
    this.kill(new PagedbError(ErrorCode.EIO, `interrupted by ${why}: the page was hidden or frozen while the call ran (a commit may or may not have happened)`));
    this.suspensions++;
    if (this.options.testSeed) {
      this.die(new PagedbError(ErrorCode.EMISUSE, 'database is closed (closed on pagehide/freeze: a database in the deterministic test mode is not reopened)'));
      return;
    }
    this.state = 'suspended';
    let release!: () => void;
    this.ready = new Promise<void>((r) => (release = r));
    this.release = release;
  }

  private release: (() => void) | undefined;

  /** Open the database again in a new worker; calls queued meanwhile then run. */
  private resume(): void {
    if (this.state !== 'suspended') return;
    this.state = 'opening';
    const release = this.release!;
    this.release = undefined;
    this.connect().then(
      (c) => {
        if (this.state !== 'opening') {
          // closed (or hidden again) while opening: give the handles back
          c.worker.terminate();
          release(); // waiting calls look again: they wait for the next resume, or reject
          return;
        }
        this.conn = c;
        this.gen++;
        this.state = 'live';
        this.reopens++;
        release();
      },
      (e) => {
        this.die(e instanceof PagedbError ? e : new PagedbError(ErrorCode.EIO, String(e)));
        release();
      },
    );
  }

  private kill(err: PagedbError): void {
    const c = this.conn;
    this.conn = undefined;
    if (!c) return;
    c.worker.terminate();
    c.ep.fail(err);
  }

  private die(err: PagedbError): void {
    this.kill(err);
    this.error = err;
    this.state = 'dead';
    this.listen(false);
    this.wipe();
  }

  private wipe(): void {
    this.options.key?.fill(0);
  }

  /** Run `op` on the current worker, waiting while the page is hidden (see the file header). */
  call<K extends Op>(op: K, args: OpArgs[K], transfer?: ArrayBuffer[]): Promise<OpResults[K]> {
    if (this.state === 'closed') return Promise.reject(new PagedbError(ErrorCode.EMISUSE, 'database is closed'));
    if (this.state === 'dead') {
      if (op === 'close' || op === 'abort' || op === 'segClose') return Promise.resolve(null as OpResults[K]);
      return Promise.reject(this.error);
    }
    if (this.state !== 'live') {
      if (op === 'close') {
        // closing while hidden: nothing to release, no need to reopen
        this.close();
        return Promise.resolve(null as OpResults[K]);
      }
      return this.ready.then(() => this.call(op, args, transfer));
    }
    const a = args as { txn?: number; seg?: number };
    if (op === 'begin') this.txnGen.set(a.txn!, this.gen);
    else if (TXN_OPS.has(op) && a.txn) {
      const g = this.txnGen.get(a.txn);
      if (op === 'commit' || op === 'abort') this.txnGen.delete(a.txn);
      if (g !== undefined && g !== this.gen) {
        if (op === 'abort') return Promise.resolve(null as OpResults[K]);
        return Promise.reject(new PagedbError(ErrorCode.EMISUSE, `transaction ${a.txn} was aborted when the page was hidden or frozen`));
      }
    }
    if (SEG_OPS.has(op)) {
      const g = Math.floor(a.seg! / SEG_SPAN);
      if (g !== this.gen) {
        if (op === 'segClose') return Promise.resolve(null as OpResults[K]);
        return Promise.reject(new PagedbError(ErrorCode.EMISUSE, 'segment handle was closed when the page was hidden or frozen: open the segment again'));
      }
      args = { ...args, seg: a.seg! % SEG_SPAN } as OpArgs[K];
    }
    const p = this.conn!.ep.call(op, args, transfer);
    if (op === 'segCreate' || op === 'segOpen') {
      const gen = this.gen;
      return p.then((r) => ({ ...(r as { seg: number }), seg: gen * SEG_SPAN + (r as { seg: number }).seg }) as OpResults[K]);
    }
    return p;
  }

  /** Terminate the worker and stop listening (after the database's close op). Idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    this.kill(new PagedbError(ErrorCode.EMISUSE, 'database is closed'));
    this.state = 'closed';
    this.listen(false);
    this.wipe();
    this.release?.();
  }
}
