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
 *  3. Arguments are read when the batch is posted, not when the call is made: callers
 *     that hand over caller-owned arrays (keys, range bounds) copy them first (database.ts).
 *  4. Every Uint8Array a call resolves with owns its whole ArrayBuffer: small values, which
 *     arrive as views into one packed buffer, are copied out; large ones arrive in their own
 *     transferred buffer and are passed on as they are.
 *
 * Thread-safety: one Coalescer per connection, used from one event loop.
 */
import { PagedbError, ErrorCode } from './errors.js';
import {
  BATCH_MAX_BYTES, BATCH_MAX_REQUESTS, type BatchRequest, type BatchResponse, type Endpoint, type OpArgs, type OpResults,
  type Op, type Request, type WriteOp,
} from './protocol.js';

interface Pending {
  op: Op;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
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
  if (a.ops) n += opsBytes(a.ops);
  if (a.data) for (const c of a.data) n += c.length;
  if (op === 'scan' && a.range) n += boundBytes(a.range.gte) + boundBytes(a.range.lt) + boundBytes(a.range.prefix);
  return n;
}

/** The array itself when it owns its whole buffer, else a copy that does. */
const own = (b: Uint8Array): Uint8Array => (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice());

/** Make the byte arrays of op's result own their buffers (invariant 4). */
function unpack(op: Op, r: unknown): unknown {
  if (op === 'get') {
    const g = r as OpResults['get'];
    if (g.value) g.value = own(g.value);
  } else if (op === 'scan') {
    for (const e of (r as OpResults['scan']).entries) {
      e[0] = own(e[0]);
      e[1] = own(e[1]);
    }
  }
  return r;
}

/**
 * An Endpoint that coalesces calls into batch messages. `post` sends one batch message
 * (and the buffers it transfers) to the other side; the owner feeds every answer message
 * to {@link receive}, and calls {@link fail} when the other side is gone.
 */
export class Coalescer implements Endpoint {
  private queue: Request[] = [];
  private transfers: (ArrayBuffer[] | undefined)[] = [];
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
  constructor(private post: (msg: BatchRequest, transfer: ArrayBuffer[]) => void, limits: CoalescerLimits = {}) {
    this.maxRequests = Math.max(1, limits.maxRequests ?? BATCH_MAX_REQUESTS);
    this.maxBytes = Math.max(1, limits.maxBytes ?? BATCH_MAX_BYTES);
  }

  /**
   * Queue `op`; resolves with its result or rejects with a PagedbError. `transfer`:
   * ArrayBuffers inside args that the caller gives up (moved, not copied; must not appear
   * in another call's list).
   */
  call<K extends Op>(op: K, args: OpArgs[K], transfer?: ArrayBuffer[]): Promise<OpResults[K]> {
    if (this.dead) return Promise.reject(this.dead);
    const n = requestBytes(op, args);
    if (this.queue.length && this.bytes + n > this.maxBytes) this.flush();
    const id = this.next++;
    const p = new Promise<OpResults[K]>((resolve, reject) => {
      this.pending.set(id, { op, resolve: resolve as (v: unknown) => void, reject });
    });
    this.queue.push({ id, op, args });
    this.transfers.push(transfer?.length ? transfer : undefined);
    this.bytes += n;
    if (this.queue.length >= this.maxRequests || this.bytes >= this.maxBytes) this.flush();
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
    if (!this.queue.length) return;
    const batch = this.queue, transfers = this.transfers;
    this.queue = [];
    this.transfers = [];
    this.bytes = 0;
    const transfer: ArrayBuffer[] = [];
    for (const t of transfers) if (t) transfer.push(...t);
    try {
      this.post({ batch }, transfer);
      this.messages++;
      return;
    } catch (e) {
      if (batch.length === 1) {
        this.settle(batch[0].id, cloneError(e));
        return;
      }
    }
    // some argument cannot be cloned: one message per request, so only its call fails
    batch.forEach((req, i) => {
      try {
        this.post({ batch: [req] }, transfers[i] ?? []);
        this.messages++;
      } catch (e) {
        this.settle(req.id, cloneError(e));
      }
    });
  }

  private settle(id: number, err: PagedbError): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.reject(err);
  }

  /** Settle the calls answered by one answer message (unknown ids are ignored). */
  receive(msg: BatchResponse): void {
    for (const r of msg.batch) {
      const p = this.pending.get(r.id);
      if (!p) continue;
      this.pending.delete(r.id);
      if (r.ok) {
        let v: unknown;
        try {
          v = unpack(p.op, r.result);
        } catch (e) {
          p.reject(new PagedbError(ErrorCode.EIO, `bad answer to ${p.op}: ${String(e)}`));
          continue;
        }
        p.resolve(v);
      } else {
        p.reject(new PagedbError(r.code, r.message));
      }
    }
  }

  /** The other side is gone: reject every queued and unanswered call, and all later ones, with `err`. */
  fail(err: PagedbError): void {
    this.dead = err;
    this.queue = [];
    this.transfers = [];
    this.bytes = 0;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}

function cloneError(e: unknown): PagedbError {
  return new PagedbError(ErrorCode.EINVAL, `argument cannot be sent to the worker: ${(e as Error)?.message ?? String(e)}`);
}
