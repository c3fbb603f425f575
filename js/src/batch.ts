/**
 * batch.ts — request coalescing on the client side of the worker protocol (protocol.ts).
 *
 * Every call is queued; the queue is posted as ONE message `{batch}` at the end of the
 * current tick (a microtask), or at once when it holds BATCH_MAX_REQUESTS requests or
 * about BATCH_MAX_BYTES of keys, values and appended bytes. So `Promise.all(keys.map((k)
 * => t.get(k)))`, or a loop that issues many reads before awaiting them, costs one message
 * each way per batch instead of one round trip per call. The endpoint on the other side
 * runs the requests in order and answers each on its own (handler.ts runBatch).
 *
 * Invariants:
 *  1. Requests are posted in call order and the other side runs them in that order, so
 *     coalescing never reorders anything: every ordering the API promises without
 *     coalescing (read-your-own-writes inside a write, writes queued one after another, a
 *     read issued after a write resolved sees it) holds unchanged.
 *  2. Each request settles its own promise: a failing request rejects only its own call
 *     with its PagedbError code; the others of the batch resolve normally.
 *  3. A get's key and a scan's range bounds are copied when the call is made; every other
 *     argument is read when the batch is posted (end of tick), so callers must not change
 *     arrays they passed before that (the Database only passes its own or buffered ones).
 *  4. Every Uint8Array a call resolves with owns its whole ArrayBuffer: small values, which
 *     arrive packed in one buffer, are copied out; large ones arrive in their own
 *     transferred buffer and are passed on as they are (wire.ts).
 *
 * Thread-safety: one Coalescer per connection, used from one event loop.
 */
import { PagedbError, ErrorCode } from './errors.js';
import {
  BATCH_MAX_BYTES, BATCH_MAX_REQUESTS, type Endpoint, type OpArgs, type OpResults, type Op, type WriteOp,
} from './protocol.js';
import { K_GET, K_SCAN, RequestWriter, readAnswers, readRequests, type WireAnswers, type WireRequests } from './wire.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** What a queued request transfers (kept to re-post it alone if its batch cannot be cloned). */
interface Queued {
  transfer: ArrayBuffer[] | undefined;
}

/** Limits of one batch message (defaults BATCH_MAX_REQUESTS and BATCH_MAX_BYTES). */
export interface CoalescerLimits {
  /** Most requests per message (>= 1). */
  maxRequests?: number;
  /** About the most bytes of keys, values and appended data per message. */
  maxBytes?: number;
}

const opsBytes = (ops: WriteOp[]): number => {
  let n = 0;
  for (const o of ops) {
    if (o[0] === 0) n += 16 + o[1].length + o[2].length + o[3].length;
    else if (o[0] === 1) n += 16 + o[1].length + o[2].length;
    else if (o[0] === 2) n += 24 + (o[2]?.length ?? 0);
    else n += 24;
  }
  return n;
};

const boundBytes = (b: unknown): number => (typeof b === 'string' ? b.length * 3 : b instanceof Uint8Array ? b.length : 0);

/** About how many bytes a request adds to a message (keys, values, appended data). */
function requestBytes(op: Op, args: OpArgs[Op]): number {
  const a = args as Partial<OpArgs['get'] & OpArgs['scan'] & OpArgs['segAppend']>;
  let n = 32;
  if (a.key) n += a.key.length;
  if (a.ops?.length) n += opsBytes(a.ops);
  if (a.data) for (const c of a.data) n += c.length;
  if (op === 'scan' && a.range) n += boundBytes(a.range.gte) + boundBytes(a.range.lt) + boundBytes(a.range.prefix);
  return n;
}

/**
 * An Endpoint that coalesces calls into batch messages (wire.ts). `post` sends one message
 * (and the buffers it transfers) to the other side; the owner feeds every answer message
 * to {@link receive}, and calls {@link fail} when the other side is gone.
 */
export class Coalescer implements Endpoint {
  private writer = new RequestWriter();
  private queued: Queued[] = [];
  private bytes = 0;
  private scheduled = false;
  private pending = new Map<number, Pending>();
  private next = 1;
  private dead: PagedbError | undefined;
  private readonly maxRequests: number;
  private readonly maxBytes: number;
  /** Batch messages posted so far (for tests and benchmarks). */
  messages = 0;

  /**
   * `post(msg, transfer)` must send the message or throw (a DataCloneError when an
   * argument cannot be cloned: the batch is then posted request by request, so only the
   * offending call rejects, with EINVAL).
   */
  constructor(private post: (msg: WireRequests, transfer: ArrayBuffer[]) => void, limits: CoalescerLimits = {}) {
    this.maxRequests = Math.max(1, limits.maxRequests ?? BATCH_MAX_REQUESTS);
    this.maxBytes = Math.max(1, limits.maxBytes ?? BATCH_MAX_BYTES);
  }

  /**
   * Queue `op`; resolves with its result or rejects with a PagedbError. A get's key and a
   * scan's bounds are copied now; other arguments are read when the batch is posted (at the
   * end of the tick). `transfer`: ArrayBuffers inside args that the caller gives up (moved,
   * not copied; must not appear in another call's list).
   */
  call<K extends Op>(op: K, args: OpArgs[K], transfer?: ArrayBuffer[]): Promise<OpResults[K]> {
    if (this.dead) return Promise.reject(this.dead);
    const n = requestBytes(op, args);
    if (this.queued.length && this.bytes + n > this.maxBytes) this.flush();
    const id = this.next++;
    if (!this.queued.length) this.writer.first = id;
    const p = new Promise<OpResults[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    this.writer.add(op, args);
    this.queued.push({ transfer: transfer?.length ? transfer : undefined });
    this.bytes += n;
    if (this.queued.length >= this.maxRequests || this.bytes >= this.maxBytes) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.flush();
      });
    }
    return p;
  }

  /** Post the queued requests now (a no-op when none are queued). */
  flush(): void {
    if (!this.queued.length) return;
    const queued = this.queued, first = this.writer.first;
    const { msg, transfer } = this.writer.take();
    this.queued = [];
    this.bytes = 0;
    for (const q of queued) if (q.transfer) transfer.push(...q.transfer);
    try {
      this.post(msg, transfer);
      this.messages++;
      return;
    } catch (e) {
      if (queued.length === 1) {
        this.settle(first, cloneError(e));
        return;
      }
    }
    // some argument cannot be cloned (nothing was sent or detached): one message per
    // request, re-encoded from the failed message (it holds the keys as they were at the
    // call), so only the offending call fails
    let i = 0;
    for (const r of readRequests(msg)) {
      const w = new RequestWriter();
      w.first = r.id;
      if (r.kind === K_GET) w.add('get', { txn: r.txn, table: r.table, key: r.key, ops: [] });
      else if (r.kind === K_SCAN) w.add('scan', { txn: r.txn, table: r.table, range: r.range, max: r.max, ops: [] });
      else w.add(r.op, r.args as never);
      const one = w.take();
      try {
        this.post(one.msg, [...one.transfer, ...(queued[i].transfer ?? [])]);
        this.messages++;
      } catch (e) {
        this.settle(r.id, cloneError(e));
      }
      i++;
    }
  }

  private settle(id: number, err: PagedbError): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.reject(err);
  }

  /** Settle the calls answered by one answer message (unknown ids are ignored). */
  receive(msg: WireAnswers): void {
    try {
      for (const a of readAnswers(msg)) {
        const p = this.pending.get(a.id);
        if (!p) continue;
        this.pending.delete(a.id);
        if (a.ok) p.resolve(a.result);
        else p.reject(new PagedbError(a.code, a.message));
      }
    } catch (e) {
      // a malformed answer: fail what it should have answered rather than hang
      const err = new PagedbError(ErrorCode.EIO, `bad answer from the worker: ${String(e)}`);
      for (let i = 0; i < msg.kinds.length; i++) this.settle(msg.first + i, err);
    }
  }

  /** The other side is gone: reject every queued and unanswered call, and all later ones, with `err`. */
  fail(err: PagedbError): void {
    this.dead = err;
    this.writer.take();
    this.queued = [];
    this.bytes = 0;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}

function cloneError(e: unknown): PagedbError {
  return new PagedbError(ErrorCode.EINVAL, `argument cannot be sent to the worker: ${(e as Error)?.message ?? String(e)}`);
}
