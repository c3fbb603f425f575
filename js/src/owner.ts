/**
 * owner.ts — the owning side of a database shared by several browser contexts (tabs.ts).
 *
 * The tab that holds the database's owner Web Lock runs the engine in its dedicated worker
 * (worker.ts, OPFS access handles) — or, when the owner is itself a dedicated worker, in
 * its own thread (local.ts: no message hop) — and serves every context that opened the same database:
 * itself and the other tabs and the service worker, each as a {@link Session}. A session's
 * calls are the protocol ops of protocol.ts with the session's own numbering; the owner
 *
 *  - runs each session's calls in its call order (a session's stream is never reordered);
 *  - renumbers transactions (a session chooses its txn numbers; the worker sees numbers
 *    unique across sessions) and keeps the segment handles each session opened;
 *  - serialises write transactions across sessions: the engine has one writer, so a
 *    session's `begin` of a write transaction (and a `writeBatch`, and a `segDelete`,
 *    which may commit) waits while another session's write transaction is open; the wait
 *    stalls only that session's stream. The gate is released when the commit or abort is
 *    handed to the worker: the worker runs requests in the order they were handed over, so
 *    the next begin always runs after it;
 *  - ends a session (aborting its transactions, closing its segment handles, releasing
 *    the write gate) when the session says goodbye or its context dies (tabs.ts watches a
 *    Web Lock the session's context holds), so a crashed tab never blocks the others;
 *  - reports every successful commit (its {@link CommitResult}) to `onCommit`, which
 *    tabs.ts turns into change notifications.
 *
 * Calls still waiting in a session's queue when the owner stops are answered `retry`: they
 * were never handed to the engine, so the client may send them to the next owner. Calls
 * already handed to the engine are answered by the engine before the worker closes
 * (close() queues the close behind them); if the worker is killed instead (pagehide,
 * freeze, crash) they are never answered and the client decides (tabs.ts: a commit in
 * flight becomes UNKNOWN_OUTCOME, never a silent replay).
 *
 * Thread-safety: main thread of the owning context (tab or dedicated worker); one Owner per
 * open database per context.
 */
import { Coalescer } from './batch.js';
import { PagedbError, ErrorCode } from './errors.js';
import type { CommitResult, Endpoint, Op, OpArgs } from './protocol.js';
import type { OpenOptions } from './types.js';
import type { WireAnswers } from './wire.js';

/** One call of a session: its id (unique in the session), op and arguments. */
export interface Call {
  id: number;
  op: Op;
  args: unknown;
}

/**
 * The answer to one call: `ok` with `result`; an error `code`/`message`; or `retry`: the
 * call was never handed to the engine (the owner stopped first) and may be sent again.
 */
export interface Answer {
  id: number;
  ok: boolean;
  result?: unknown;
  code?: number;
  message?: string;
  retry?: boolean;
}

/** Longest a graceful stop waits for the transactions already open to end (ms). */
export const STOP_GRACE_MS = 2000;

/** Ops that start something new: answered `retry` by a stopping owner. */
const STARTERS = new Set<Op>(['begin', 'writeBatch', 'segDelete', 'segCreate', 'segOpen', 'stat', 'verify', 'open', 'compactStep', 'rekey', 'rotateStep']);

/**
 * Waits before the second and third try when the OPFS files are still held (EBUSY), in
 * ms. Each try itself retries createSyncAccessHandle for up to 3 s (opfs_backend.ts), so
 * an owner gives up after about 10 s, releases its locks and stands again (tabs.ts).
 */
const OPEN_BACKOFF_MS = [250, 1000];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The database open for the owner: in a worker it started (worker.ts), or in this thread
 * when the owner is itself a dedicated worker (local.ts). `end` lets it go: terminates the
 * worker, or releases this thread's OPFS handles.
 */
interface Conn {
  ep: Endpoint & { fail(e: PagedbError): void };
  end(): void;
  /** True when the engine runs in this thread. */
  local: boolean;
}

/** Opens a database in this thread (local.ts openLocal). */
export type LocalOpener = (name: string, options: OpenOptions) => Promise<{ ep: Conn['ep']; release(why: PagedbError): void }>;

let registered: LocalOpener | undefined;

/**
 * Register the in-thread engine (the `pagedb/dedicated-worker` entry, dedicated_worker.ts,
 * does it), so a bundled dedicated worker runs the engine in its own thread.
 */
export function setLocalOpener(f: LocalOpener): void {
  registered = f;
}

/** local.js next to this file; a variable, so bundlers neither bundle nor rewrite it (see localOpener). */
const LOCAL_JS = './local.js';

/**
 * The in-thread opener when this context is a dedicated worker with OPFS sync access
 * handles, else undefined (the owner starts worker.ts). The registered one
 * (setLocalOpener), else local.js loaded at run time from next to this file — the package
 * used as published ES modules (no bundler). A page bundle never carries local.js (its
 * first load stays small); in a bundle where local.js is not next to this file, the
 * import fails and the owner starts worker.ts as before (db.engineLocation says which).
 */
async function localOpener(): Promise<LocalOpener | undefined> {
  const g = globalThis as unknown as { DedicatedWorkerGlobalScope?: unknown; FileSystemFileHandle?: { prototype: object } };
  if (typeof g.DedicatedWorkerGlobalScope !== 'function' || !(globalThis instanceof (g.DedicatedWorkerGlobalScope as never))
    || !g.FileSystemFileHandle || !('createSyncAccessHandle' in g.FileSystemFileHandle.prototype)) return undefined;
  if (registered) return registered;
  try {
    const m = (await import(/* @vite-ignore */ /* webpackIgnore: true */ new URL(LOCAL_JS, import.meta.url).href)) as { openLocal: LocalOpener };
    return (registered = m.openLocal);
  } catch {
    return undefined;
  }
}

/**
 * Start a dedicated worker and open `name` in it (worker.ts). When the files are still
 * held by a context that is going away (EBUSY: NoModificationAllowedError from
 * createSyncAccessHandle, e.g. a crashed or reloaded owner whose handles are released
 * asynchronously) the worker is terminated and a new one tries again after
 * OPEN_BACKOFF_MS. Rejects with the open's PagedbError; every failed try terminates its
 * worker, so nothing is left holding a handle.
 */
async function connect(name: string, options: OpenOptions, onDead: (e: PagedbError) => void): Promise<Conn> {
  // a dedicated worker runs the engine itself (local.ts); the test-only testFaults stay in worker.ts
  const here = options.testFaults ? undefined : await localOpener();
  for (let attempt = 0; ; attempt++) {
    try {
      if (here) {
        const e = await here(name, options);
        return { ep: e.ep, end: () => e.release(new PagedbError(ErrorCode.EIO, 'the owner stopped')), local: true };
      }
      return await connectOnce(name, options, onDead);
    } catch (e) {
      if (!(e instanceof PagedbError) || e.code !== ErrorCode.EBUSY || attempt >= OPEN_BACKOFF_MS.length) throw e;
      await sleep(OPEN_BACKOFF_MS[attempt]);
    }
  }
}

async function connectOnce(name: string, options: OpenOptions, onDead: (e: PagedbError) => void): Promise<Conn> {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: `pagedb:${name}` });
  const ep = new Coalescer((msg, transfer) => worker.postMessage(msg, { transfer }));
  let opened = false;
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
      if (opened) onDead(dead);
    });
  });
  try {
    await ready;
    await ep.call('open', { name, options });
  } catch (e) {
    worker.terminate();
    ep.fail(new PagedbError(ErrorCode.EMISUSE, 'database is closed'));
    throw e;
  }
  opened = true;
  return { ep, end: () => worker.terminate(), local: false };
}

/** The database served to every context that opened it (see the file header). */
export class Owner {
  private conn: Conn;
  private sessions = new Map<string, Session>();
  private gate: Session | undefined; // session whose write transaction is open
  private gateWaiters: (() => void)[] = [];
  private nextTxn = 1;
  private stopped = false;
  /** @internal Set by stop(): calls that would start something new are answered `retry`. */
  stopping = false;
  /** Called with every successful commit, in commit order. */
  onCommit: (c: CommitResult) => void = () => undefined;
  /** Called after a successful key change through any session, with its arguments (tabs.ts). */
  onRekey: (a: OpArgs['rekey']) => void = () => undefined;
  /** Called once if the worker dies on its own (not by stop/kill). */
  onDead: (e: PagedbError) => void = () => undefined;

  private constructor(conn: Conn) {
    this.conn = conn;
  }

  /**
   * Open `name` in a new worker (retrying while the files are still held elsewhere; see
   * connect). Rejects with the open's PagedbError (EKEY, ENOTFOUND, EFULL, EBUSY after the
   * retries, ENOTSUP when the worker lacks OPFS sync access handles...).
   */
  static async start(name: string, options: OpenOptions): Promise<Owner> {
    let owner: Owner | undefined;
    const conn = await connect(name, options, (e) => owner?.died(e));
    owner = new Owner(conn);
    return owner;
  }

  private died(e: PagedbError): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onDead(e);
  }

  /** A new session `id`; its answers go to `send` (batched per tick). */
  session(id: string, send: (answers: Answer[]) => void): Session {
    this.sessions.get(id)?.end();
    const s = new Session(this, id, send);
    this.sessions.set(id, s);
    return s;
  }

  /** Session `id`, if open. */
  find(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** True when the engine runs in this thread (the owner is a dedicated worker: local.ts). */
  get local(): boolean {
    return this.conn.local;
  }

  /** Number of open sessions (for tests). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** @internal */
  forget(s: Session): void {
    if (this.sessions.get(s.id) === s) this.sessions.delete(s.id);
  }

  /** @internal Run op on the worker. */
  call(op: Op, args: unknown): Promise<unknown> {
    return this.conn.ep.call(op, args as OpArgs[Op]);
  }

  /** @internal */
  txnNumber(): number {
    return this.nextTxn++;
  }

  /** @internal True when `s` may begin a write now (the gate is free or its own). */
  gateFree(s: Session): boolean {
    return !this.gate || this.gate === s;
  }

  /** @internal */
  takeGate(s: Session): void {
    this.gate = s;
  }

  /** @internal Release the gate held by `s` and wake the waiting sessions. */
  releaseGate(s: Session): void {
    if (this.gate !== s) return;
    this.gate = undefined;
    const w = this.gateWaiters;
    this.gateWaiters = [];
    for (const f of w) f();
  }

  /** @internal Wake `f` when the gate is released. */
  waitGate(f: () => void): void {
    this.gateWaiters.push(f);
  }

  /**
   * Stop serving, gracefully (a tab closing its Database): from now on calls that would
   * start something new (a transaction, a write, a segment handle, a read outside a
   * transaction) are answered `retry`, while the transactions already open may finish —
   * for at most `graceMs` (default STOP_GRACE_MS); then every session's unsent calls are
   * answered `retry`, the close op is queued behind the calls already handed to the worker
   * (they are answered first; transactions still open are aborted), the database is
   * closed and the worker terminated. Never rejects.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    if (this.stopped) return;
    this.stopping = true;
    // let the transactions already open finish (a client's commit on its way is accepted),
    // at most graceMs; anything new is answered `retry` and goes to the next owner
    for (const s of this.sessions.values()) s.pumpNow();
    const end = Date.now() + graceMs;
    while (Date.now() < end && [...this.sessions.values()].some((s) => s.busy)) await sleep(10);
    this.stopped = true;
    for (const s of [...this.sessions.values()]) s.stop();
    try {
      await this.conn.ep.call('close', {});
    } catch {
      /* the worker is terminated below either way */
    }
    this.conn.end();
  }

  /**
   * Terminate the worker now (pagehide, freeze): the OPFS handles are released; calls in
   * flight are never answered (their clients decide: tabs.ts). Like a crash, this loses
   * nothing committed (FORMAT.md §6).
   */
  kill(): void {
    this.stopped = true;
    for (const s of [...this.sessions.values()]) s.stop(true);
    this.conn.end();
    this.conn.ep.fail(new PagedbError(ErrorCode.EIO, 'the owner stopped'));
  }
}

/** Ops that commit (or may): their answer carries a CommitResult. */
const COMMITS = new Set<Op>(['commit', 'writeBatch', 'segDelete']);

/** One context's calls at the owner (see the file header). */
export class Session {
  private queue: Call[] = [];
  private txns = new Map<number, number>(); // session txn -> worker txn
  private writeTxn: number | undefined; // session txn number of its open write transaction
  private segs = new Set<number>();
  private outbox: Answer[] = [];
  private flushing = false;
  private waiting = false;
  private ended = false;

  /** @internal */
  constructor(private owner: Owner, readonly id: string, private send: (answers: Answer[]) => void) {}

  /** Queue `calls` (in order) and run them as the gate allows. */
  submit(calls: Call[]): void {
    if (this.ended) {
      for (const c of calls) this.answer({ id: c.id, ok: false, retry: true });
      return;
    }
    this.queue.push(...calls);
    this.pump();
  }

  private answer(a: Answer): void {
    this.outbox.push(a);
    if (this.flushing) return;
    this.flushing = true;
    queueMicrotask(() => {
      this.flushing = false;
      const out = this.outbox;
      this.outbox = [];
      if (out.length) this.send(out);
    });
  }

  /** @internal True while the session has an open transaction or queued calls. */
  get busy(): boolean {
    return !this.ended && (this.txns.size > 0 || this.queue.length > 0);
  }

  /** @internal Run the queue now (a stopping owner answers the calls waiting for the gate). */
  pumpNow(): void {
    this.waiting = false;
    this.pump();
  }

  private pump(): void {
    while (this.queue.length && !this.ended) {
      const c = this.queue[0];
      const a = c.args as { txn?: number; write?: boolean };
      if (this.owner.stopping && (STARTERS.has(c.op) || ((c.op === 'tables' || c.op === 'segList') && !a.txn))) {
        this.queue.shift();
        this.answer({ id: c.id, ok: false, retry: true });
        continue;
      }
      if (this.waiting) return;
      const needsGate = (c.op === 'begin' && a.write) || c.op === 'writeBatch' || c.op === 'segDelete' || c.op === 'compactStep' || c.op === 'rekey' || c.op === 'rotateStep';
      if (needsGate && !this.owner.gateFree(this)) {
        this.waiting = true;
        this.owner.waitGate(() => {
          this.waiting = false;
          this.pump();
        });
        return;
      }
      this.queue.shift();
      // writeBatch and segDelete hold the gate only while being handed over; a begin holds it
      // until its commit or abort (issue)
      this.issue(c, needsGate && c.op !== 'begin' && this.writeTxn === undefined);
    }
  }

  /** Hand call `c` to the worker, translating transaction numbers. */
  private issue(c: Call, gated: boolean): void {
    const args = { ...(c.args as Record<string, unknown>) } as { txn?: number; write?: boolean; seg?: number };
    const clientTxn = args.txn;
    if (c.op === 'close') {
      // a context closing its Database ends its session; the owner's database stays open
      this.end();
      this.answer({ id: c.id, ok: true, result: null });
      return;
    }
    if (c.op === 'open') {
      this.answer({ id: c.id, ok: false, code: ErrorCode.EMISUSE, message: 'already open' });
      return;
    }
    if (c.op === 'begin') {
      if (!Number.isSafeInteger(clientTxn) || clientTxn! < 1 || this.txns.has(clientTxn!)) {
        this.answer({ id: c.id, ok: false, code: ErrorCode.EMISUSE, message: `transaction number ${clientTxn} is invalid or in use` });
        return;
      }
      const t = this.owner.txnNumber();
      this.txns.set(clientTxn!, t);
      args.txn = t;
      if (args.write) {
        this.owner.takeGate(this);
        this.writeTxn = clientTxn;
      }
    } else if (clientTxn) {
      const t = this.txns.get(clientTxn);
      if (t === undefined) {
        if (c.op === 'abort') this.answer({ id: c.id, ok: true, result: null });
        else this.answer({ id: c.id, ok: false, code: ErrorCode.EMISUSE, message: `transaction ${clientTxn} has ended` });
        return;
      }
      args.txn = t;
      if (c.op === 'commit' || c.op === 'abort') {
        this.txns.delete(clientTxn);
        if (this.writeTxn === clientTxn) {
          this.writeTxn = undefined;
          gated = true; // released once the commit or abort is handed over, below
        }
      }
    }
    if (gated) this.owner.takeGate(this);
    const p = this.owner.call(c.op, args);
    // released only now: the worker runs this op before any begin handed over after it
    if (gated) this.owner.releaseGate(this);
    p.then(
      (result) => {
        if (c.op === 'begin') result = { txn: clientTxn };
        if ((c.op === 'segCreate' || c.op === 'segOpen') && result) this.segs.add((result as { seg: number }).seg);
        if (COMMITS.has(c.op) && result) this.owner.onCommit(result as CommitResult);
        if (c.op === 'rekey') this.owner.onRekey(c.args as OpArgs['rekey']);
        this.answer({ id: c.id, ok: true, result });
      },
      (e) => {
        const err = e instanceof PagedbError ? e : new PagedbError(ErrorCode.EIO, String(e));
        if (c.op === 'begin') {
          this.txns.delete(clientTxn!);
          if (this.writeTxn === clientTxn) {
            this.writeTxn = undefined;
            this.owner.releaseGate(this);
          }
        }
        this.answer({ id: c.id, ok: false, code: err.code, message: err.message.replace(/^PAGEDB_[A-Z_]+: /, '') });
      },
    );
    if (c.op === 'segClose') this.segs.delete(args.seg!);
  }

  /**
   * The session's context is gone or closed its Database: abort its transactions, close
   * its segment handles, release the write gate, drop its queued calls. Idempotent.
   */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    for (const t of this.txns.values()) this.owner.call('abort', { txn: t }).catch(() => undefined);
    this.txns.clear();
    for (const s of this.segs) this.owner.call('segClose', { seg: s, data: [] }).catch(() => undefined);
    this.segs.clear();
    this.writeTxn = undefined;
    this.owner.releaseGate(this);
    this.owner.forget(this);
  }

  /** The owner stops: answer the calls not yet handed over `retry` (unless `silent`), then end. */
  stop(silent = false): void {
    const q = this.queue;
    this.queue = [];
    if (!silent) for (const c of q) this.answer({ id: c.id, ok: false, retry: true });
    this.ended = true;
    this.owner.forget(this);
  }
}
