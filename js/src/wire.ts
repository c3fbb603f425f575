/**
 * wire.ts — the encoding of batch messages (protocol.ts). Structured clone costs a few
 * microseconds per object, more than the engine's own work for a point read, so the hot
 * requests (get and scan without buffered writes) and their answers travel as numbers in
 * one Float64Array and bytes in one transferred buffer; every other request and answer is
 * an ordinary object ({op, args} / result) in a side list.
 *
 * Requests (client → worker), WireRequests:
 *
 *   first     id of the first request; request i has id first + i
 *   kinds[i]  K_OBJ: next entry of objs ({op, args} of protocol.ts)
 *             K_GET: get; nums: txn, table index, key length; key in bytes
 *             K_SCAN: scan; nums: txn, table index, flags (1 reverse, 2 gte, 4 lt,
 *               8 prefix), limit (-1: none), max, then the length of each present bound;
 *               the bounds' bytes in bytes (gte, lt, prefix order)
 *   tables    table names, indexed from nums
 *
 * Answers (worker → client), WireAnswers (answers to consecutive ids, in order):
 *
 *   first     id of the first answer
 *   kinds[i]  A_OBJ: result = next entry of objs
 *             A_ERR: next entry of errs, [code, message]
 *             A_NONE: get found nothing
 *             A_VAL: get value; nums: length; bytes in bytes, or, from
 *               REPLY_OWN_BUFFER_BYTES on, the next entry of own (its own buffer)
 *             A_SCAN: scan entries; nums: count, more (0/1), byte length of the
 *               entries, which follow in bytes as [key length u32le, value length
 *               u32le, key, value] records (the engine's own scan output)
 *
 * Both directions transfer `bytes` (and `own`) instead of copying them. Readers take
 * subarrays of `bytes`; the client copies each key and value out so the arrays the API
 * returns own their buffers.
 */
import { REPLY_OWN_BUFFER_BYTES, type Op, type OpArgs, type OpResults } from './protocol.js';
import type { RangeOptions } from './types.js';
import { bytesArg } from './validate.js';

export const K_OBJ = 0, K_GET = 1, K_SCAN = 2;
export const A_OBJ = 0, A_ERR = 1, A_NONE = 2, A_VAL = 3, A_SCAN = 4;

/** A batch of requests on the wire. */
export interface WireRequests {
  first: number;
  kinds: Uint8Array;
  nums: Float64Array;
  bytes: Uint8Array;
  tables: string[];
  objs: { op: Op; args: unknown }[];
}

/** Answers to consecutive requests on the wire. */
export interface WireAnswers {
  first: number;
  kinds: Uint8Array;
  nums: Float64Array;
  bytes: Uint8Array;
  own: Uint8Array[];
  objs: unknown[];
  errs: [number, string][];
}

/** A growable byte buffer. */
class Bytes {
  buf: Uint8Array;
  len = 0;
  constructor(initial: number) {
    this.buf = new Uint8Array(initial);
  }
  /** Room for n more bytes; returns the offset where they go (len is advanced). */
  reserve(n: number): number {
    const at = this.len;
    if (at + n > this.buf.length) {
      const nb = new Uint8Array(Math.max(at + n, this.buf.length * 2));
      nb.set(this.buf.subarray(0, at));
      this.buf = nb;
    }
    this.len = at + n;
    return at;
  }
  put(b: Uint8Array): void {
    const at = this.reserve(b.length); // first: it may replace this.buf
    this.buf.set(b, at);
  }
  /**
   * The bytes so far in a buffer of their own (transferable), and a reset. The next buffer
   * starts small again (4 KiB, grown by doubling): keeping the grown size would allocate
   * and zero up to 1 MiB per message after one big batch, tens of µs per call.
   */
  take(): Uint8Array {
    const out = this.len === this.buf.length ? this.buf : this.buf.slice(0, this.len);
    this.buf = new Uint8Array(4096);
    this.len = 0;
    return out;
  }
}

/** A growable list of doubles. */
class Nums {
  a = new Float64Array(1024);
  len = 0;
  push(v: number): void {
    if (this.len === this.a.length) {
      const na = new Float64Array(this.a.length * 2);
      na.set(this.a);
      this.a = na;
    }
    this.a[this.len++] = v;
  }
  take(): Float64Array {
    const out = this.a.slice(0, this.len);
    this.len = 0;
    return out;
  }
}


/** Builds a WireRequests (client side). */
export class RequestWriter {
  private kinds: number[] = [];
  private nums = new Nums();
  private bytes = new Bytes(4096);
  private tables: string[] = [];
  private tableIndex = new Map<string, number>();
  private objs: { op: Op; args: unknown }[] = [];
  first = 0;

  /** Requests so far. */
  get count(): number {
    return this.kinds.length;
  }

  private table(name: string): number {
    let i = this.tableIndex.get(name);
    if (i === undefined) {
      i = this.tables.length;
      this.tables.push(name);
      this.tableIndex.set(name, i);
    }
    return i;
  }

  /** Append one request; keys and range bounds are copied now. */
  add<K extends Op>(op: K, args: OpArgs[K]): void {
    if (op === 'get' && (args as OpArgs['get']).ops.length === 0) {
      const a = args as OpArgs['get'];
      this.kinds.push(K_GET);
      this.nums.push(a.txn);
      this.nums.push(this.table(a.table));
      this.nums.push(a.key.length);
      this.bytes.put(a.key);
      return;
    }
    if (op === 'scan' && (args as OpArgs['scan']).ops.length === 0) {
      const a = args as OpArgs['scan'], r = a.range;
      const gte = r.gte === undefined ? undefined : bytesArg(r.gte, 'range.gte');
      const lt = r.lt === undefined ? undefined : bytesArg(r.lt, 'range.lt');
      const pre = r.prefix === undefined ? undefined : bytesArg(r.prefix, 'range.prefix');
      this.kinds.push(K_SCAN);
      this.nums.push(a.txn);
      this.nums.push(this.table(a.table));
      this.nums.push((r.reverse ? 1 : 0) | (gte ? 2 : 0) | (lt ? 4 : 0) | (pre ? 8 : 0));
      this.nums.push(r.limit === undefined ? -1 : r.limit);
      this.nums.push(a.max);
      for (const b of [gte, lt, pre]) {
        if (!b) continue;
        this.nums.push(b.length);
        this.bytes.put(b);
      }
      return;
    }
    if (op === 'get') {
      const a = args as OpArgs['get'];
      args = { ...a, key: a.key.slice() } as OpArgs[K]; // read when posted: copy now
    }
    this.kinds.push(K_OBJ);
    this.objs.push({ op, args });
  }

  /** The message so far (and its transfer list); the writer starts a new one. */
  take(): { msg: WireRequests; transfer: ArrayBuffer[] } {
    const bytes = this.bytes.take();
    const msg: WireRequests = {
      first: this.first, kinds: Uint8Array.from(this.kinds), nums: this.nums.take(), bytes, tables: this.tables,
      objs: this.objs,
    };
    this.kinds = [];
    this.tables = [];
    this.tableIndex.clear();
    this.objs = [];
    return { msg, transfer: [bytes.buffer as ArrayBuffer] };
  }
}

/** One decoded request (worker side); byte arrays are views into the message's bytes. */
export type WireRequest =
  | { kind: typeof K_OBJ; id: number; op: Op; args: unknown }
  | { kind: typeof K_GET; id: number; txn: number; table: string; key: Uint8Array }
  | { kind: typeof K_SCAN; id: number; txn: number; table: string; range: RangeOptions; max: number };

/** Decode the requests of `m` in order. */
export function* readRequests(m: WireRequests): Generator<WireRequest> {
  let n = 0, b = 0, o = 0;
  const nums = m.nums;
  for (let i = 0; i < m.kinds.length; i++) {
    const id = m.first + i;
    const k = m.kinds[i];
    if (k === K_GET) {
      const txn = nums[n], table = m.tables[nums[n + 1]], len = nums[n + 2];
      n += 3;
      yield { kind: K_GET, id, txn, table, key: m.bytes.subarray(b, b + len) };
      b += len;
    } else if (k === K_SCAN) {
      const txn = nums[n], table = m.tables[nums[n + 1]], flags = nums[n + 2], limit = nums[n + 3], max = nums[n + 4];
      n += 5;
      const range: RangeOptions = { reverse: (flags & 1) !== 0 };
      if (limit >= 0) range.limit = limit;
      const bound = (): Uint8Array => {
        const len = nums[n++];
        const v = m.bytes.subarray(b, b + len);
        b += len;
        return v;
      };
      if (flags & 2) range.gte = bound();
      if (flags & 4) range.lt = bound();
      if (flags & 8) range.prefix = bound();
      yield { kind: K_SCAN, id, txn, table, range, max };
    } else {
      const r = m.objs[o++];
      yield { kind: K_OBJ, id, op: r.op, args: r.args };
    }
  }
}

/** Builds WireAnswers (worker side). */
export class AnswerWriter {
  private kinds: number[] = [];
  private nums = new Nums();
  private bytes = new Bytes(64 * 1024);
  private own: Uint8Array[] = [];
  private ownBytes = 0;
  private moved: ArrayBuffer[] = []; // segRead and snapNext results, transferred inside objs
  private objs: unknown[] = [];
  private errs: [number, string][] = [];
  first = 0;

  /** Answers so far. */
  get count(): number {
    return this.kinds.length;
  }

  /** Result bytes so far (packed and own). */
  get size(): number {
    return this.bytes.len + this.ownBytes;
  }

  /** An ordinary result (segRead's bytes are transferred, not copied). */
  obj(op: Op, result: unknown): void {
    this.kinds.push(A_OBJ);
    this.objs.push(result);
    if (op === 'segRead' || op === 'snapNext') {
      // a fresh array of exactly its length (segRead: `length`; snapNext: one window)
      const b = (result as OpResults['segRead' | 'snapNext']).bytes;
      this.moved.push(b.buffer as ArrayBuffer);
      this.ownBytes += b.length;
    }
  }

  error(code: number, message: string): void {
    this.kinds.push(A_ERR);
    this.errs.push([code, message]);
  }

  /** A get's value (copied now: `v` may be a view into the wasm heap), or undefined. */
  value(v: Uint8Array | undefined): void {
    if (!v) {
      this.kinds.push(A_NONE);
      return;
    }
    this.kinds.push(A_VAL);
    this.nums.push(v.length);
    if (v.length >= REPLY_OWN_BUFFER_BYTES) {
      this.own.push(v.slice());
      this.ownBytes += v.length;
    } else {
      this.bytes.put(v);
    }
  }

  /** A scan's entries as the engine's records (copied now), their count and `more`. */
  scan(records: Uint8Array, count: number, more: boolean): void {
    this.kinds.push(A_SCAN);
    this.nums.push(count);
    this.nums.push(more ? 1 : 0);
    this.nums.push(records.length);
    this.bytes.put(records);
  }

  /** The message so far (and its transfer list); the writer starts a new one. */
  take(): { msg: WireAnswers; transfer: ArrayBuffer[] } {
    const bytes = this.bytes.take();
    const own = this.own;
    const msg: WireAnswers = {
      first: this.first, kinds: Uint8Array.from(this.kinds), nums: this.nums.take(), bytes, own, objs: this.objs,
      errs: this.errs,
    };
    this.first += this.kinds.length;
    this.kinds = [];
    const transfer = [bytes.buffer as ArrayBuffer, ...this.moved];
    for (const b of own) transfer.push(b.buffer as ArrayBuffer);
    this.own = [];
    this.ownBytes = 0;
    this.moved = [];
    this.objs = [];
    this.errs = [];
    return { msg, transfer };
  }
}

/** One decoded answer: ok with the op's result, or an error. */
export type WireAnswer = { id: number; ok: true; kind: number; result: unknown } | { id: number; ok: false; code: number; message: string };

/**
 * Decode the answers of `m` in order. Get values and scan entries are new arrays that own
 * their buffers (copied out of the message's bytes, or its own buffer for a large value);
 * a get answers `{value}`, a scan `{entries, more}`, as OpResults.
 */
export function* readAnswers(m: WireAnswers): Generator<WireAnswer> {
  let n = 0, b = 0, o = 0, e = 0, w = 0;
  const nums = m.nums, bytes = m.bytes;
  for (let i = 0; i < m.kinds.length; i++) {
    const id = m.first + i;
    const k = m.kinds[i];
    if (k === A_VAL) {
      const len = nums[n++];
      let value: Uint8Array;
      if (len >= REPLY_OWN_BUFFER_BYTES) value = m.own[w++];
      else {
        value = bytes.slice(b, b + len);
        b += len;
      }
      yield { id, ok: true, kind: k, result: { value } satisfies OpResults['get'] };
    } else if (k === A_NONE) {
      yield { id, ok: true, kind: k, result: { value: undefined } satisfies OpResults['get'] };
    } else if (k === A_SCAN) {
      const count = nums[n], more = nums[n + 1] === 1, used = nums[n + 2];
      n += 3;
      const entries: [Uint8Array, Uint8Array][] = new Array(count);
      const dv = new DataView(bytes.buffer, bytes.byteOffset + b, used);
      let p = 0;
      for (let j = 0; j < count; j++) {
        const kl = dv.getUint32(p, true), vl = dv.getUint32(p + 4, true);
        const at = b + p + 8;
        entries[j] = [bytes.slice(at, at + kl), bytes.slice(at + kl, at + kl + vl)];
        p += 8 + kl + vl;
      }
      b += used;
      yield { id, ok: true, kind: k, result: { entries, more } satisfies OpResults['scan'] };
    } else if (k === A_ERR) {
      const [code, message] = m.errs[e++];
      yield { id, ok: false, code, message };
    } else {
      const result = m.objs[o++];
      yield { id, ok: true, kind: k, result };
    }
  }
}
