/**
 * tabs.ts — one database, every browser context: many tabs and a service worker.
 *
 * OPFS sync access handles are exclusive and exist only in dedicated workers, so exactly
 * one context can run the engine on a database's files. Per database:
 *
 *  - Election. Every tab that opens the database is a candidate for the exclusive Web
 *    Lock `pagedb:<name>:owner` (navigator.locks). The holder — the owner — starts its
 *    dedicated worker (worker.ts), opens the database in it (owner.ts; retrying while the
 *    previous owner's handles are still being released: NoModificationAllowedError never
 *    reaches the app) and serves everyone; a dedicated worker is a candidate like a tab,
 *    and when it wins it runs the engine in its own thread (local.ts: its own calls cost
 *    no message hop); if it cannot open, it releases the lock. While
 *    it owns, it also holds `pagedb:<name>:alive:<owner id>`, which its clients watch (a
 *    shared request, granted when the owner is gone). A service worker is never a
 *    candidate (it cannot start a worker); it is always a client.
 *  - Transport. A BroadcastChannel `pagedb:<name>` (available in windows, workers and
 *    service workers; no SharedArrayBuffer, no COOP/COEP) carries the control messages:
 *    `hello` (a client asks to be served, with a fingerprint of its key or passphrase: the
 *    owner refuses a different one with EKEY), `welcome`/`refuse`, `owner` (a new owner
 *    announces itself), `bye` (a client leaves), `change` (a commit, for subscribers). A
 *    client's calls and their answers (`req`/`ans`, by request id, batched per tick) go on
 *    a MessagePort of their own where SharedWorker exists: the broker SharedWorker
 *    (broker.ts) hands a MessageChannel's ports to the client and the owner, so requests
 *    are not cloned into every context; elsewhere (service workers, browsers without
 *    SharedWorker, or if the broker does not answer within LINK_WAIT_MS) they use the
 *    BroadcastChannel. A client's calls of one attachment all travel one way, and the owner
 *    answers the way the client's last request came. Every message names its sender and
 *    recipient; contexts ignore what is not theirs.
 *  - Clients. A client's Database sends its protocol calls (protocol.ts; the same calls a
 *    tab sends to its own worker) to the owner, which runs them in the client's call order
 *    and serialises write transactions across clients (owner.ts). The API is the same in
 *    every context. Read-your-own-writes holds (one owner, ordered streams), and a read
 *    transaction is a snapshot held in the owner's engine. Each client holds
 *    `pagedb:<name>:client:<id>`; the owner watches it and, when the client's context
 *    dies, aborts its transactions and releases what it held.
 *  - Failover. When the owner goes away (tab closed, reloaded, crashed, frozen, in the
 *    back/forward cache: it releases its locks on pagehide/freeze), the next candidate
 *    becomes owner and announces itself; clients re-attach. A client's calls in flight at
 *    the old owner are never replayed: a commit (also writeBatch, segments.delete) rejects
 *    with PagedbError UNKNOWN_OUTCOME — it may or may not have committed; retry it with the
 *    same idempotency id (`db.write(fn, { idempotencyId })`, recorded in the same
 *    transaction, FORMAT.md §11) to apply it exactly once (the retry rejects with EEXIST
 *    "already committed" if the first one landed). Transactions and segment handles of the
 *    old owner are gone (their next call rejects with EMISUSE; calls in flight on them with
 *    EMISUSE or, for segment handles, EIO); reads outside a transaction (stat, verify,
 *    tables, segments.list) are re-sent. Calls the old owner had not yet started (answered
 *    `retry` when it stopped gracefully) and calls made while there is no owner wait for
 *    the next one, at most OWNER_WAIT_MS, then reject with EBUSY.
 *  - Lifecycle. On pagehide and freeze a tab gives everything up (worker, handles, every
 *    lock, its session at the owner, its channel and ports: a page holding them may not
 *    enter the back/forward cache); on pageshow (persisted) and resume it joins again as a
 *    candidate, under a new id. Calls made meanwhile wait; calls in flight are settled as
 *    on failover (a commit: UNKNOWN_OUTCOME); transactions and segment handles from before
 *    reject with EMISUSE. A database opened with the test-only `testSeed` is not reopened
 *    (its nonces would repeat): its later calls reject with EMISUSE.
 *  - Notifications. After each successful commit the owner posts `change` with the
 *    commit's CommitResult; every Database's subscribers (subscribe.ts) get it once.
 */
import { CapabilityError } from './capabilities.js';
import { PagedbError, ErrorCode } from './errors.js';
import { Owner, type Answer, type Call, type Session } from './owner.js';
import type { CommitResult, Endpoint, Op, OpArgs, OpResults } from './protocol.js';
import type { EngineLocation, OpenOptions } from './types.js';

/** Longest a call waits for an owner to be elected and reachable before EBUSY (ms). */
export const OWNER_WAIT_MS = 15_000;
/** Interval of a waiting client's `hello` (ms). */
const HELLO_MS = 200;
/** How long a closing owner answers late requests `retry` (ms; see retire()). */
const RETIRE_MS = 1000;
/** A client waits this long for the broker's direct port before using the BroadcastChannel (ms). */
const LINK_WAIT_MS = 1000;
/** A client that lost its owner waits this long for straggling answers before failing calls (ms). */
const GRACE_MS = 50;

type Msg =
  | { k: 'hello'; from: string; cred: string }
  | { k: 'welcome'; to: string; from: string; txnId: number }
  | { k: 'refuse'; to: string; from: string; code: number; message: string }
  | { k: 'owner'; from: string; txnId: number }
  | { k: 'req'; to: string; from: string; calls: Call[] }
  | { k: 'ans'; to: string; from: string; answers: Answer[] }
  | { k: 'bye'; to: string; from: string }
  | { k: 'change'; from: string; change: CommitResult };

type State = 'electing' | 'owner' | 'client' | 'snapshot' | 'suspended' | 'dead' | 'closed';

interface Pending {
  op: Op;
  args: unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  gen: number; // backend generation it was sent to
}

/** Ops whose args name a transaction (args.txn; 0 = none). */
const TXN_OPS = new Set<Op>(['get', 'scan', 'commit', 'abort', 'segGet', 'segList', 'tables', 'count']);
/** Ops whose args name a segment handle (args.seg). */
const SEG_OPS = new Set<Op>(['segAppend', 'segRead', 'segSync', 'segSeal', 'segStat', 'segVerify', 'segClose']);
/** Ops that commit: in flight when the owner goes away, their outcome is unknown. */
const COMMIT_OPS = new Set<Op>(['commit', 'writeBatch', 'segDelete', 'compactStep', 'rekey', 'rotateStep']);
/** Ops that write: refused at once on a Database opened read-only. */
const WRITE_OPS = new Set<Op>(['writeBatch', 'segCreate', 'segDelete', 'compactStep', 'rekey', 'rotateStep']);
/** Segment handle numbers are unique across backends: generation * SEG_SPAN + owner's number. */
const SEG_SPAN = 2 ** 32;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function newId(): string {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * A fingerprint of the credentials in `o` (SHA-256 of the key, or of the passphrase, with
 * a prefix saying which), so contexts can check they opened with the same secret without
 * sending it to every context of the origin.
 */
async function fingerprint(o: OpenOptions): Promise<string> {
  const enc = new TextEncoder();
  const body = o.key ? o.key : enc.encode(o.passphrase ?? '');
  const pre = enc.encode(o.key ? 'pagedb key\0' : 'pagedb passphrase\0');
  const all = new Uint8Array(pre.length + body.length);
  all.set(pre);
  all.set(body, pre.length);
  const h = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  all.fill(0);
  return [...h].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** Hold Web Lock `name` (mode) until the returned release() is called; resolves once granted. */
function hold(name: string, mode: LockMode = 'exclusive'): Promise<() => void> {
  return new Promise((granted, failed) => {
    navigator.locks
      .request(name, { mode }, () => new Promise<void>((release) => granted(release)))
      .catch(failed);
  });
}

/**
 * `retry` answers to `calls`: never handed to the engine (this owner is stopping, or does
 * not serve the caller), so the caller sends them to the next owner.
 */
function retryAll(calls: Call[]): Answer[] {
  return calls.map((c) => ({ id: c.id, ok: false, retry: true }));
}

/** ENOTSUP for a service worker that finds no tab with database `name` open (and no snapshot path). */
function noTab(name: string): PagedbError {
  return new PagedbError(ErrorCode.ENOTSUP, `no tab has database "${name}" open: a service worker reaches a database through a tab that has it open`);
}

/** True in a ServiceWorkerGlobalScope. */
export function inServiceWorker(): boolean {
  const g = globalThis as unknown as { ServiceWorkerGlobalScope?: unknown };
  return typeof g.ServiceWorkerGlobalScope === 'function' && globalThis instanceof (g.ServiceWorkerGlobalScope as never);
}

/**
 * The Endpoint of a Database in a browser context: its calls go to this tab's own worker
 * while it owns the database, else to the owning tab (see the file header).
 */
export class TabEndpoint implements Endpoint {
  /**
   * Set by the service-worker entry (service_worker.ts): opens the read-only snapshot
   * path (snapshot.ts) a service worker uses while no tab has the database open. Unset,
   * a service worker with no tab gets ENOTSUP.
   */
  static snapshotOpener: ((name: string, options: OpenOptions) => Promise<Endpoint>) | undefined;
  private id = newId();
  private snap: Endpoint | undefined; // state 'snapshot': the read-only snapshot
  private state: State = 'electing';
  private channel: BroadcastChannel;
  private cred = '';
  private gen = 0; // bumped at every change of backend
  private txnGen = new Map<number, number>();
  private pending = new Map<number, Pending>();
  private outbox: Call[] = [];
  private scheduled = false;
  private nextId = 1;
  private waiters = new Set<() => void>();
  private error: PagedbError | undefined;
  private opened: ((e?: PagedbError) => void) | undefined; // settles open()
  // owning
  private owner: Owner | undefined;
  private session: Session | undefined;
  private releaseOwnerLock: (() => void) | undefined;
  private releaseAlive: (() => void) | undefined;
  private candidacy: AbortController | undefined;
  private watchers = new Map<string, AbortController>(); // client id -> watch of its lock (owner side)
  // client
  private ownerId: string | undefined;
  private watch: AbortController | undefined; // watch of the owner's alive lock
  private helloTimer: ReturnType<typeof setInterval> | undefined;
  private releaseClientLock: (() => void) | undefined;
  // direct ports (broker.ts), where SharedWorker exists
  private broker: MessagePort | undefined; // this context's connection to the broker
  private link: MessagePort | undefined; // client: its port to the owner
  private linking: ReturnType<typeof setTimeout> | undefined; // client: waiting for the broker
  private routes = new Map<string, MessagePort | undefined>(); // owner: client id -> port its requests came on
  private ports = new Map<string, MessagePort>(); // owner: client id -> port from the broker
  // notifications
  private listeners = new Set<(c: CommitResult & { gap?: boolean }) => void>();
  private lastTxnId = 0;
  private everAttached = false;
  /** Times this context became the owner (for tests). */
  ownerships = 0;
  /** Times this context lost its owner and re-attached (for tests). */
  failovers = 0;

  private constructor(private name: string, private options: OpenOptions, private canOwn: boolean) {
    this.channel = this.connectChannel();
  }

  /** A BroadcastChannel on the database's name, delivering to onMessage. */
  private connectChannel(): BroadcastChannel {
    const c = new BroadcastChannel(`pagedb:${this.name}`);
    c.onmessage = (ev: MessageEvent) => this.onMessage(ev.data as Msg);
    return c;
  }

  /** True while this context owns the database (runs the engine in its worker). */
  get isOwner(): boolean {
    return this.state === 'owner';
  }

  /**
   * Where this context's calls run now: 'this-thread' (this context owns the database and
   * is a dedicated worker: the engine runs here, no message hop; see local.ts), 'worker'
   * (this tab owns it and runs the engine in its own dedicated worker), 'owner' (another
   * context owns it; calls go to it), 'snapshot' (a service worker's read-only snapshot),
   * 'none' (no backend now: electing, suspended, closed or failed).
   */
  get engineLocation(): EngineLocation {
    if (this.state === 'owner') return this.owner?.local ? 'this-thread' : 'worker';
    if (this.state === 'client') return 'owner';
    if (this.state === 'snapshot') return 'snapshot';
    return 'none';
  }

  /** Sessions the owner serves, this context's own included (0 when not the owner; for tests). */
  get sessions(): number {
    return this.owner?.sessionCount ?? 0;
  }

  /**
   * Join the database `name`: become its owner or a client of its owner. `canOwn` false
   * (service workers): only a client; rejects with ENOTSUP when no tab has the database
   * open. Rejects with the open's PagedbError (EKEY: another context owns it with a
   * different key or passphrase; the owner's open errors; EBUSY when no owner answered
   * within OWNER_WAIT_MS).
   */
  static async open(name: string, options: OpenOptions, canOwn: boolean): Promise<TabEndpoint> {
    const copy: OpenOptions = { ...options };
    if (options.key instanceof Uint8Array) copy.key = options.key.slice();
    const t = new TabEndpoint(name, copy, canOwn);
    try {
      t.cred = await fingerprint(copy);
      const alone = !canOwn && !(await t.ownerExists());
      if (alone && !TabEndpoint.snapshotOpener)
        throw noTab(name);
      const done = new Promise<void>((resolve, reject) => {
        t.opened = (e) => (e ? reject(e) : resolve());
      });
      const timer = setTimeout(() => t.opened?.(new PagedbError(ErrorCode.EBUSY,
        `database "${name}" is held by a context that does not answer (waited ${OWNER_WAIT_MS} ms)`)), OWNER_WAIT_MS);
      await t.join();
      if (alone) {
        // no tab: the read-only snapshot, unless a tab holds the files by now (EBUSY:
        // its welcome comes)
        await t.enterSnapshot().catch((e) => {
          if (!(e instanceof PagedbError) || e.code !== ErrorCode.EBUSY) throw e;
        });
      }
      try {
        await done;
      } finally {
        clearTimeout(timer);
      }
    } catch (e) {
      t.shutdown();
      throw e;
    }
    t.listen(true);
    return t;
  }

  private async ownerExists(): Promise<boolean> {
    const q = await navigator.locks.query();
    return (q.held ?? []).some((l) => l.name === `pagedb:${this.name}:owner`);
  }

  /** Take the client lock, stand as a candidate (if allowed) and say hello. */
  private async join(): Promise<void> {
    if (this.channelClosed) {
      this.channel = this.connectChannel();
      this.channelClosed = false;
    }
    this.releaseClientLock = await hold(`pagedb:${this.name}:client:${this.id}`);
    this.connectBroker();
    this.state = 'electing';
    if (this.canOwn) this.stand();
    this.startHello();
  }

  // ---------------------------------------------------------------- election and owning

  /** Queue for the owner lock; when granted, open the database and serve. */
  private stand(): void {
    const ac = new AbortController();
    this.candidacy = ac;
    navigator.locks
      .request(`pagedb:${this.name}:owner`, { signal: ac.signal }, () => {
        if (ac.signal.aborted || this.state === 'closed' || this.state === 'dead' || this.state === 'suspended') return;
        return new Promise<void>((release) => {
          this.releaseOwnerLock = release;
          this.becomeOwner(ac).catch(() => undefined);
        });
      })
      .catch(() => undefined); // aborted
  }

  private async becomeOwner(ac: AbortController): Promise<void> {
    const id = this.id;
    let owner: Owner | undefined;
    try {
      this.releaseAlive = await hold(`pagedb:${this.name}:alive:${id}`);
      owner = await Owner.start(this.name, this.options);
    } catch (e) {
      this.dropOwnerLocks();
      let err = e instanceof PagedbError ? e : new PagedbError(ErrorCode.EIO, String(e));
      const missing = /missing capability: ([^(]*[^ (])/.exec(err.message);
      if (err.code === ErrorCode.ENOTSUP && missing) err = new CapabilityError(missing[1]);
      if (ac.signal.aborted || this.id !== id) return;
      if (err.code === ErrorCode.EBUSY && this.state !== 'closed') {
        // still held by a context that is going away: stand again after a pause
        await sleep(500);
        if (!ac.signal.aborted && this.id === id && (this.state === 'electing' || this.state === 'client')) this.stand();
        return;
      }
      if (this.opened) this.opened(err);
      else this.die(err);
      return;
    }
    if (ac.signal.aborted || this.id !== id || this.state === 'closed' || this.state === 'suspended' || this.state === 'dead') {
      owner.kill();
      this.dropOwnerLocks();
      return;
    }
    let txnId = 0;
    try {
      txnId = ((await owner.call('stat', {})) as { txnId: number }).txnId;
    } catch {
      /* reported by the calls */
    }
    if (ac.signal.aborted || this.id !== id || this.inactive()) {
      owner.kill(); // hidden, frozen or closed meanwhile
      this.dropOwnerLocks();
      return;
    }
    // the previous owner (if this context was its client) is gone: its calls are settled
    if (this.state === 'client') this.detach('another context took over');
    this.stopHello();
    this.owner = owner;
    owner.onCommit = (c) => {
      this.post({ k: 'change', from: this.id, change: c });
      this.notify(c);
    };
    owner.onDead = (e) => this.loseOwnership(e);
    owner.onRekey = (a) => void this.rekeyed(a);
    this.session = owner.session(this.id, (answers) => this.receive(answers));
    this.state = 'owner';
    this.ownerships++;
    this.attached(txnId);
    this.post({ k: 'owner', from: this.id, txnId });
  }

  /** True when this context is closed, dead or suspended (re-read after an await). */
  private inactive(): boolean {
    return this.state === 'closed' || this.state === 'suspended' || this.state === 'dead';
  }

  private dropOwnerLocks(): void {
    this.releaseAlive?.();
    this.releaseAlive = undefined;
    this.releaseOwnerLock?.();
    this.releaseOwnerLock = undefined;
    for (const w of this.watchers.values()) w.abort();
    this.watchers.clear();
    for (const id of [...this.ports.keys()]) this.unroute(id);
    this.routes.clear();
  }

  /** The worker died on its own: give ownership up and stand again. */
  private loseOwnership(e: PagedbError): void {
    if (this.state !== 'owner') return;
    this.owner?.kill();
    this.owner = undefined;
    this.session = undefined;
    this.dropOwnerLocks();
    this.state = 'electing';
    this.failPending(this.gen, e.message);
    this.gen++;
    this.stand();
    this.startHello();
  }

  /**
   * A new backend is ready (owner or client; `live` false: the service worker's snapshot):
   * release the waiting calls; `txnId` is the backend's current txn id.
   */
  private attached(txnId: number, live = true): void {
    this.gen++;
    this.noOwner = false;
    this.noOwnerError = undefined;
    // commits this context was not told about (an owner died after committing, before
    // announcing): a gap; not at the first attachment, nor from a snapshot (txnId 0)
    if (live && this.listeners.size && this.everAttached && txnId > this.lastTxnId)
      this.notify({ txnId, tables: [], segments: false, gap: true });
    if (live) this.everAttached = true;
    this.lastTxnId = Math.max(this.lastTxnId, txnId);
    const o = this.opened;
    this.opened = undefined;
    o?.();
    const w = [...this.waiters];
    this.waiters.clear();
    for (const f of w) f();
  }

  // ---------------------------------------------------------------- direct ports

  /**
   * Connect to the broker SharedWorker (broker.ts) and register this context's id, where
   * SharedWorker exists (tabs; not service workers). Without it every message uses the
   * BroadcastChannel.
   */
  private connectBroker(): void {
    if (!this.canOwn || typeof SharedWorker !== 'function') return;
    try {
      const w = new SharedWorker(new URL('./broker.js', import.meta.url), { type: 'module', name: 'pagedb-broker' });
      w.onerror = () => {
        this.broker = undefined;
      };
      this.broker = w.port;
      w.port.onmessage = (ev: MessageEvent) => this.onBroker(ev.data as { k: string; peer: string; port?: MessagePort });
      w.port.start();
      w.port.postMessage({ k: 'register', id: this.id, lock: `pagedb:${this.name}:client:${this.id}` });
    } catch {
      this.broker = undefined;
    }
  }

  private onBroker(d: { k: string; peer: string; port?: MessagePort }): void {
    if (d.k === 'linked' && d.port) {
      const port = d.port;
      if (this.state === 'client' && d.peer === this.ownerId && this.linking !== undefined) {
        clearTimeout(this.linking);
        this.linking = undefined;
        this.link = port;
        port.onmessage = (ev: MessageEvent) => {
          const m = ev.data as Msg;
          if (m.k === 'ans' && this.link === port) this.receive(m.answers);
        };
        this.flush();
        return;
      }
      if (this.state === 'owner' && this.owner?.find(d.peer)) {
        const peer = d.peer;
        this.ports.get(peer)?.close();
        this.ports.set(peer, port);
        port.onmessage = (ev: MessageEvent) => {
          const m = ev.data as Msg;
          if (m.k !== 'req' || this.state !== 'owner') return;
          this.routes.set(peer, port);
          const s = this.owner!.find(peer);
          if (s) s.submit(m.calls);
          else port.postMessage({ k: 'ans', to: peer, from: this.id, answers: retryAll(m.calls) }); // owner stopping
        };
        return;
      }
      port.close();
    } else if (d.k === 'nolink' && this.state === 'client' && d.peer === this.ownerId && this.linking !== undefined) {
      clearTimeout(this.linking);
      this.linking = undefined;
      this.flush();
    }
  }

  /** Owner: forget client `id`'s port. */
  private unroute(id: string): void {
    this.ports.get(id)?.close();
    this.ports.delete(id);
    this.routes.delete(id);
  }

  // ---------------------------------------------------------------- client side

  private startHello(): void {
    if (this.helloTimer !== undefined) return;
    const hello = () => this.post({ k: 'hello', from: this.id, cred: this.cred });
    hello();
    this.helloTimer = setInterval(hello, HELLO_MS);
  }

  private stopHello(): void {
    if (this.helloTimer !== undefined) clearInterval(this.helloTimer);
    this.helloTimer = undefined;
  }

  /** Welcome from owner `from`: become its client and watch its alive lock. */
  private attach(from: string, txnId: number): void {
    if (this.state === 'snapshot') this.leaveSnapshot();
    if (this.state !== 'electing') return;
    this.stopHello();
    this.ownerId = from;
    this.state = 'client';
    if (this.broker) {
      // calls wait (at most LINK_WAIT_MS) for the direct port, so they all travel one way
      this.linking = setTimeout(() => {
        this.linking = undefined;
        this.flush();
      }, LINK_WAIT_MS);
      this.broker.postMessage({ k: 'link', from: this.id, to: from });
    }
    const ac = new AbortController();
    this.watch = ac;
    navigator.locks
      .request(`pagedb:${this.name}:alive:${from}`, { mode: 'shared', signal: ac.signal }, () => {
        if (!ac.signal.aborted && this.ownerId === from) this.ownerGone(from);
      })
      .catch(() => undefined);
    this.attached(txnId);
  }

  /** Owner `from` is gone: after a grace period for straggling answers, detach and look again. */
  private ownerGone(from: string): void {
    setTimeout(() => {
      if (this.state === 'client' && this.ownerId === from) {
        this.detach('the tab owning the database went away');
        this.lookAgain();
      }
    }, GRACE_MS);
  }

  /** Leave the current owner: settle the calls it had, stop watching it. */
  private detach(why: string): void {
    if (this.state !== 'client') return;
    this.watch?.abort();
    this.watch = undefined;
    const old = this.ownerId;
    this.ownerId = undefined;
    this.state = 'electing';
    this.failovers++;
    this.dropLink();
    if (old) this.post({ k: 'bye', to: old, from: this.id });
    this.failPending(this.gen, why);
  }

  /** Service worker, no tab: read from a read-only snapshot (snapshot.ts). Rejects with its open error. */
  private async enterSnapshot(): Promise<void> {
    const ep = await TabEndpoint.snapshotOpener!(this.name, this.options);
    if (this.state !== 'electing') {
      ep.call('close', {}).catch(() => undefined);
      return;
    }
    this.snap = ep;
    this.state = 'snapshot';
    this.attached(0, false);
  }

  /** A tab has the database again: leave the snapshot (closed once its reads are done). */
  private leaveSnapshot(): void {
    const old = this.snap;
    this.snap = undefined;
    if (this.state === 'snapshot') this.state = 'electing';
    if (old) setTimeout(() => old.call('close', {}).catch(() => undefined), 5_000);
  }

  private dropLink(): void {
    if (this.linking !== undefined) clearTimeout(this.linking);
    this.linking = undefined;
    this.link?.close();
    this.link = undefined;
  }

  /** No owner: say hello until one answers; a service worker with no tab fails its waiting calls. */
  private lookAgain(): void {
    this.startHello();
    if (!this.canOwn)
      this.ownerExists().then((yes) => {
        if (yes || this.state !== 'electing') return;
        if (TabEndpoint.snapshotOpener) {
          this.enterSnapshot().catch((e) => {
            if (e instanceof PagedbError && e.code === ErrorCode.EBUSY) return; // a tab holds it: its welcome comes
            this.noOwnerError = e instanceof PagedbError ? e : new PagedbError(ErrorCode.EIO, String(e));
            this.failWaiters();
          });
          return;
        }
        this.failWaiters();
      }, () => undefined);
  }

  /** A service worker found no tab (and no snapshot): the waiting calls reject. */
  private failWaiters(): void {
    const w = [...this.waiters];
    this.waiters.clear();
    this.noOwner = true;
    for (const f of w) f();
  }

  private noOwnerError: PagedbError | undefined;

  private noOwner = false;

  /**
   * Settle the calls sent to backend generation `gen`, which is gone without answering
   * them (see the file header): commits UNKNOWN_OUTCOME, reads outside a transaction
   * re-sent, everything else EMISUSE/EIO.
   */
  private failPending(gen: number, why: string): void {
    for (const [id, p] of [...this.pending]) {
      if (p.gen !== gen) continue;
      this.pending.delete(id);
      const a = p.args as { txn?: number };
      if (COMMIT_OPS.has(p.op))
        p.reject(new PagedbError(ErrorCode.UNKNOWN_OUTCOME, `${why} while the commit was in flight: it may or may not have committed (retry with the same idempotency id)`));
      else if (p.op === 'abort' || p.op === 'segClose' || p.op === 'close') p.resolve(null);
      else if (p.op === 'stat' || p.op === 'verify' || ((p.op === 'tables' || p.op === 'segList') && !a.txn))
        this.redispatch(p);
      else if (SEG_OPS.has(p.op) || p.op === 'segCreate' || p.op === 'segOpen')
        p.reject(new PagedbError(ErrorCode.EIO, `${why} during the segment operation: open the segment again`));
      else p.reject(new PagedbError(ErrorCode.EMISUSE, `transaction aborted: ${why}`));
    }
  }

  /** Send a call again through call() (generation checks apply). */
  private redispatch(p: Pending): void {
    this.call(p.op, p.args as OpArgs[Op]).then(p.resolve, p.reject);
  }

  // ---------------------------------------------------------------- messages

  private post(m: Msg): void {
    try {
      this.channel.postMessage(m);
    } catch {
      /* closed */
    }
  }

  private onMessage(m: Msg): void {
    if (this.state === 'closed' && this.retiring && m.k === 'req' && m.to === this.id)
      this.post({ k: 'ans', to: m.from, from: this.id, answers: retryAll(m.calls) });
    if (this.state === 'closed' || this.state === 'dead') return;
    switch (m.k) {
      case 'hello':
        if (this.state === 'owner') this.greet(m.from, m.cred);
        return;
      case 'welcome':
        if (m.to === this.id) this.attach(m.from, m.txnId);
        return;
      case 'refuse':
        if (m.to === this.id && this.state === 'electing') {
          const e = new PagedbError(m.code, m.message);
          if (this.opened) this.opened(e);
          else this.die(e);
        }
        return;
      case 'owner':
        // another owner: the old one is gone (after a grace period for its last answers)
        if (this.state === 'client' && this.ownerId !== m.from) this.ownerGone(this.ownerId!);
        if (this.state === 'electing' || this.state === 'snapshot') this.post({ k: 'hello', from: this.id, cred: this.cred });
        return;
      case 'req':
        if (this.state === 'owner' && m.to === this.id) {
          const s = this.owner!.find(m.from);
          if (s) this.routes.set(m.from, undefined);
          if (s) s.submit(m.calls);
          else this.post({ k: 'ans', to: m.from, from: this.id, answers: retryAll(m.calls) }); // owner stopping
        }
        return;
      case 'ans':
        if (m.to === this.id && this.state === 'client' && m.from === this.ownerId) this.receive(m.answers);
        return;
      case 'bye':
        if (this.state === 'owner' && m.to === this.id) {
          this.owner!.find(m.from)?.end();
          this.unroute(m.from);
        }
        return;
      case 'change':
        if (m.from !== this.id) this.notify(m.change);
        return;
    }
  }

  /** Owner: answer a hello (a session per client, ended when its client lock is released). */
  private greet(from: string, cred: string): void {
    const owner = this.owner!;
    if (cred !== this.cred) {
      this.post({ k: 'refuse', to: from, from: this.id, code: ErrorCode.EKEY,
        message: 'wrong key or passphrase: another tab has this database open with a different one' });
      return;
    }
    if (!owner.find(from)) {
      const s = owner.session(from, (answers) => {
        const port = this.routes.get(from);
        if (port) port.postMessage({ k: 'ans', to: from, from: this.id, answers });
        else this.post({ k: 'ans', to: from, from: this.id, answers });
      });
      const ac = new AbortController();
      this.watchers.get(from)?.abort();
      this.watchers.set(from, ac);
      navigator.locks
        .request(`pagedb:${this.name}:client:${from}`, { mode: 'shared', signal: ac.signal }, () => {
          s.end();
          if (this.watchers.get(from) === ac) {
            this.watchers.delete(from);
            this.unroute(from);
          }
        })
        .catch(() => undefined);
    }
    this.owner!.call('stat', {}).then(
      (st) => this.post({ k: 'welcome', to: from, from: this.id, txnId: (st as { txnId: number }).txnId }),
      () => this.post({ k: 'welcome', to: from, from: this.id, txnId: 0 }),
    );
  }

  /** Answers from the backend (own session or the owner tab). */
  private receive(answers: Answer[]): void {
    for (const a of answers) {
      const p = this.pending.get(a.id);
      if (!p) continue;
      this.pending.delete(a.id);
      if (a.retry) this.waitBackend().then(() => this.redispatch(p), p.reject); // at the next owner
      else if (a.ok) p.resolve(a.result);
      else p.reject(new PagedbError(a.code ?? ErrorCode.EIO, a.message ?? 'failed'));
    }
  }

  private notify(c: CommitResult & { gap?: boolean }): void {
    if (c.txnId <= this.lastTxnId && !c.gap) return;
    this.lastTxnId = Math.max(this.lastTxnId, c.txnId);
    for (const f of [...this.listeners]) f(c);
  }

  /**
   * Receive every commit's CommitResult (once each, in txn order) until the returned
   * function is called.
   */
  subscribe(f: (c: CommitResult & { gap?: boolean }) => void): () => void {
    this.listeners.add(f);
    return () => {
      this.listeners.delete(f);
    };
  }

  // ---------------------------------------------------------------- calls

  /** Run `op` on the current backend, waiting (at most OWNER_WAIT_MS) while there is none. */
  call<K extends Op>(op: K, args: OpArgs[K], _transfer?: ArrayBuffer[]): Promise<OpResults[K]> {
    if (this.state === 'closed') return Promise.reject(new PagedbError(ErrorCode.EMISUSE, 'database is closed'));
    if (this.state === 'dead') {
      if (op === 'close' || op === 'abort' || op === 'segClose') return Promise.resolve(null as OpResults[K]);
      return Promise.reject(this.error);
    }
    if (op === 'close') return this.closeAll().then(() => null as OpResults[K]);
    const a = args as { txn?: number; seg?: number; write?: boolean; append?: boolean };
    if (this.options.readOnly && (WRITE_OPS.has(op) || (op === 'begin' && a.write) || (op === 'segOpen' && a.append)))
      return Promise.reject(new PagedbError(ErrorCode.EMISUSE, 'database is open read-only'));
    if (this.state !== 'owner' && this.state !== 'client' && this.state !== 'snapshot')
      return this.waitBackend().then(() => this.call(op, args));
    if (op === 'begin') this.txnGen.set(a.txn!, this.gen);
    else if (TXN_OPS.has(op) && a.txn) {
      const g = this.txnGen.get(a.txn);
      if (op === 'commit' || op === 'abort') this.txnGen.delete(a.txn);
      if (g !== undefined && g !== this.gen) {
        if (op === 'abort') return Promise.resolve(null as OpResults[K]);
        return Promise.reject(new PagedbError(ErrorCode.EMISUSE,
          `transaction ${a.txn} was aborted: the database changed hands (a tab went away, or this page was hidden or frozen)`));
      }
    }
    if (SEG_OPS.has(op)) {
      const g = Math.floor(a.seg! / SEG_SPAN);
      if (g !== this.gen) {
        if (op === 'segClose') return Promise.resolve(null as OpResults[K]);
        return Promise.reject(new PagedbError(ErrorCode.EMISUSE,
          'segment handle was closed when the database changed hands (a tab went away, or this page was hidden or frozen): open the segment again'));
      }
      args = { ...args, seg: a.seg! % SEG_SPAN } as OpArgs[K];
    }
    const id = this.nextId++, gen = this.gen;
    let p: Promise<unknown>;
    if (this.state === 'snapshot') {
      p = this.snap!.call(op, args).catch((e) => {
        // a tab holds the files now: wait for it (a read outside a transaction, or a begin)
        if (e instanceof PagedbError && e.code === ErrorCode.EBUSY && (op === 'begin' || !a.txn) && this.state === 'snapshot') {
          this.leaveSnapshot();
          return this.call(op, args);
        }
        throw e;
      });
    } else {
      p = new Promise<unknown>((resolve, reject) => {
        this.pending.set(id, { op, args, resolve, reject, gen });
      });
      this.outbox.push({ id, op, args });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    }
    if (op === 'segCreate' || op === 'segOpen')
      return p.then((r) => ({ ...(r as { seg: number }), seg: gen * SEG_SPAN + (r as { seg: number }).seg }) as OpResults[K]);
    if (op === 'rekey') return p.then(async (r) => (await this.rekeyed(args as OpArgs['rekey']), r as OpResults[K]));
    return p as Promise<OpResults[K]>;
  }

  /**
   * The key was changed to `a`'s (by this context's call, or, as owner, by any session's):
   * reopen with it after failover, and greet contexts that present it (and refuse the old).
   */
  private async rekeyed(a: OpArgs['rekey']): Promise<void> {
    this.options = { ...this.options, key: a.newKey?.slice(), passphrase: a.newPassphrase };
    this.cred = await fingerprint(this.options);
  }

  /** Send the calls of this tick to the backend (own session, or the owner tab). */
  private flush(): void {
    this.scheduled = false;
    if (this.state === 'client' && this.linking !== undefined) return; // sent once the port is there
    const calls = this.outbox;
    this.outbox = [];
    if (!calls.length) return;
    if (this.state === 'owner' && this.session) this.session.submit(calls);
    else if (this.state === 'client' && this.link) this.link.postMessage({ k: 'req', to: this.ownerId, from: this.id, calls });
    else if (this.state === 'client' && this.ownerId) this.post({ k: 'req', to: this.ownerId, from: this.id, calls });
    else {
      // the backend went away between the call and the end of the tick: not sent, so send again
      for (const c of calls) {
        const p = this.pending.get(c.id);
        if (!p) continue;
        this.pending.delete(c.id);
        this.redispatch(p);
      }
    }
  }

  private waitBackend(): Promise<void> {
    if (this.noOwner && !this.canOwn)
      return Promise.reject(this.noOwnerError ?? noTab(this.name));
    return new Promise<void>((resolve, reject) => {
      const f = () => {
        clearTimeout(timer);
        if (this.noOwner && !this.canOwn && this.state === 'electing') {
          reject(this.noOwnerError ?? noTab(this.name));
        } else resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(f);
        reject(new PagedbError(ErrorCode.EBUSY, `no tab could serve database "${this.name}" within ${OWNER_WAIT_MS} ms`));
      }, OWNER_WAIT_MS);
      this.waiters.add(f);
    });
  }

  // ---------------------------------------------------------------- lifecycle

  private readonly onHide = (): void => this.suspend();
  private readonly onShow = (ev: Event): void => {
    if (ev.type === 'pageshow' && !(ev as PageTransitionEvent).persisted) return;
    this.resume();
  };

  private listen(on: boolean): void {
    const f = on ? globalThis.addEventListener : globalThis.removeEventListener;
    if (typeof f !== 'function' || typeof document === 'undefined') return;
    f.call(globalThis, 'pagehide', this.onHide);
    f.call(globalThis, 'pageshow', this.onShow);
    const d = on ? document.addEventListener : document.removeEventListener;
    d.call(document, 'freeze', this.onHide);
    d.call(document, 'resume', this.onShow);
  }

  private channelClosed = false;

  /**
   * Give everything up (pagehide, freeze): worker, handles, locks, session, and the
   * BroadcastChannel (a page holding locks or an open channel may not enter the
   * back/forward cache).
   */
  private suspend(): void {
    if (this.state === 'closed' || this.state === 'dead' || this.state === 'suspended') return;
    const gen = this.gen;
    this.release();
    this.channel.close();
    this.channelClosed = true;
    this.state = 'suspended';
    this.failPending(gen, 'the page was hidden or frozen');
    this.gen++;
    if (this.options.testSeed)
      this.die(new PagedbError(ErrorCode.EMISUSE, 'database is closed (closed on pagehide/freeze: a database in the deterministic test mode is not reopened)'));
  }

  /** Join again (pageshow from the back/forward cache, resume) under a new id. */
  private resume(): void {
    if (this.state !== 'suspended') return;
    this.id = newId();
    this.state = 'electing';
    this.join().catch((e) => this.die(e instanceof PagedbError ? e : new PagedbError(ErrorCode.EIO, String(e))));
  }

  /** Release the worker, every lock and the session at the owner (no answer awaited). */
  private release(): void {
    this.stopHello();
    if (this.snap) {
      this.snap.call('close', {}).catch(() => undefined);
      this.snap = undefined;
    }
    this.candidacy?.abort();
    this.candidacy = undefined;
    if (this.state === 'owner') {
      this.owner?.kill();
      this.owner = undefined;
      this.session = undefined;
    }
    this.dropOwnerLocks();
    if (this.state === 'client' && this.ownerId) this.post({ k: 'bye', to: this.ownerId, from: this.id });
    this.dropLink();
    if (this.broker) {
      this.broker.postMessage({ k: 'unregister', id: this.id });
      this.broker.close();
      this.broker = undefined;
    }
    this.watch?.abort();
    this.watch = undefined;
    this.ownerId = undefined;
    this.releaseClientLock?.();
    this.releaseClientLock = undefined;
  }

  private die(err: PagedbError): void {
    if (this.state === 'closed') return;
    this.release();
    this.error = err;
    this.state = 'dead';
    this.listen(false);
    this.wipe();
    const w = [...this.waiters];
    this.waiters.clear();
    for (const f of w) f();
    for (const [id, p] of [...this.pending]) {
      this.pending.delete(id);
      p.reject(err);
    }
  }

  private wipe(): void {
    this.options.key?.fill(0);
  }

  /** Close: the owner closes the database (after every call handed to it) and steps down. */
  private async closeAll(): Promise<void> {
    if (this.state === 'owner' && this.owner) {
      const o = this.owner;
      await o.stop();
      this.owner = undefined;
      this.session = undefined;
      this.retire();
    }
    this.shutdown();
  }

  private retiring = false;

  /**
   * A closing owner keeps its channel and ports for RETIRE_MS after giving the database
   * up, answering every request that still reaches it `retry` (never accepted, so the
   * client sends it to the next owner) instead of leaving it unanswered.
   */
  private retire(): void {
    this.retiring = true;
    const ports = [...this.ports.values()];
    this.ports.clear();
    this.routes.clear();
    const id = this.id, channel = this.channel;
    for (const p of ports)
      p.onmessage = (ev: MessageEvent) => {
        const m = ev.data as Msg;
        if (m.k === 'req') p.postMessage({ k: 'ans', to: m.from, from: id, answers: retryAll(m.calls) });
      };
    setTimeout(() => {
      this.retiring = false;
      for (const p of ports) p.close();
      channel.close();
    }, RETIRE_MS);
  }

  /** Release everything and reject whatever still waits. Idempotent. */
  private shutdown(): void {
    if (this.state === 'closed') return;
    this.release();
    this.state = 'closed';
    this.listen(false);
    this.wipe();
    this.listeners.clear();
    try {
      if (!this.retiring) this.channel.close(); // else closed by retire()
    } catch {
      /* closed */
    }
    const err = new PagedbError(ErrorCode.EMISUSE, 'database is closed');
    const w = [...this.waiters];
    this.waiters.clear();
    for (const f of w) f();
    for (const [id, p] of [...this.pending]) {
      this.pending.delete(id);
      p.reject(err);
    }
  }
}
