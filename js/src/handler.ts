/**
 * handler.ts — executes protocol ops against a SyncDatabase. The worker wraps it in
 * postMessage; under Node it is called in-process. Transactions are kept by the number the
 * client chose in begin, segment handles by a number assigned here, until
 * committed/aborted or closed.
 *
 * runBatch is the entry point of both endpoints: it runs a batch's requests in order (see
 * protocol.ts), segCreate through SyncDatabase.createSegmentAsync (asynchronous file
 * creation on OPFS), every other op synchronously, and answers in messages of at most
 * REPLY_MAX_RESPONSES responses / about REPLY_MAX_BYTES of result bytes, so the client can
 * use the first answers while later requests still run. Before each answer message it
 * lets the backend complete deferred work (OPFS: removing the files of deleted or unlinked
 * segments; see opfs_backend.ts), so an answer never precedes the work of the ops it
 * answers. Result bytes of get and scan are packed into one transferred buffer (Packer).
 */
import { SyncDatabase, type EmModule, type SyncSegment, type SyncTxn } from './engine.js';
import { PagedbError, ErrorCode } from './errors.js';
import {
  REPLY_MAX_BYTES, REPLY_MAX_RESPONSES, REPLY_OWN_BUFFER_BYTES, type BatchResponse, type OpArgs, type OpResults, type Op,
  type Request, type Response, type WriteOp,
} from './protocol.js';

/** One answer message of a batch and the buffers it transfers. */
export interface BatchReply {
  msg: BatchResponse;
  transfer: ArrayBuffer[];
}

/**
 * Gathers the result bytes of one answer message: small arrays are copied into one
 * buffer at flush time and replaced by views into it; large ones keep their own buffer
 * (a fresh copy out of the wasm heap) and are transferred as they are.
 */
class Packer {
  private small: { holder: Record<number | string, unknown>; key: number | string; src: Uint8Array }[] = [];
  private smallBytes = 0;
  private own: ArrayBuffer[] = [];
  private ownBytes = 0;

  /** Result bytes gathered so far. */
  get bytes(): number {
    return this.smallBytes + this.ownBytes;
  }

  /** Register holder[key], a Uint8Array owning its whole buffer. */
  add(holder: Record<number | string, unknown>, key: number | string): void {
    const src = holder[key] as Uint8Array;
    if (src.length >= REPLY_OWN_BUFFER_BYTES) {
      this.own.push(src.buffer as ArrayBuffer);
      this.ownBytes += src.length;
    } else {
      this.small.push({ holder, key, src });
      this.smallBytes += src.length;
    }
  }

  /** Register the byte arrays of op's result. */
  result(op: Op, r: unknown): void {
    if (op === 'get') {
      const g = r as OpResults['get'];
      if (g.value) this.add(g as unknown as Record<string, unknown>, 'value');
    } else if (op === 'scan') {
      for (const e of (r as OpResults['scan']).entries) {
        this.add(e as unknown as Record<number, unknown>, 0);
        this.add(e as unknown as Record<number, unknown>, 1);
      }
    } else if (op === 'segRead') {
      const b = (r as OpResults['segRead']).bytes;
      this.own.push(b.buffer as ArrayBuffer); // a fresh array of exactly `length` bytes
      this.ownBytes += b.length;
    }
  }

  /** Copy the small arrays into one buffer, point their holders at it; the transfer list. */
  finish(): ArrayBuffer[] {
    const transfer = this.own;
    if (this.small.length) {
      const buf = new ArrayBuffer(this.smallBytes);
      const all = new Uint8Array(buf);
      let off = 0;
      for (const s of this.small) {
        all.set(s.src, off);
        s.holder[s.key] = new Uint8Array(buf, off, s.src.length);
        off += s.src.length;
      }
      transfer.push(buf);
    }
    this.small = [];
    this.smallBytes = 0;
    this.own = [];
    this.ownBytes = 0;
    return transfer;
  }
}

export class Handler {
  private db: SyncDatabase | undefined;
  private txns = new Map<number, SyncTxn>();
  private segs = new Map<number, SyncSegment>();
  private next = 1;

  /** openDb: opens the database (backend already installed on the module). */
  constructor(private m: EmModule, private onClose?: () => void) {}

  private d(): SyncDatabase {
    if (!this.db) throw new PagedbError(ErrorCode.EMISUSE, 'database is not open');
    return this.db;
  }

  private t(id: number): SyncTxn {
    const t = this.txns.get(id);
    if (!t) throw new PagedbError(ErrorCode.EMISUSE, `transaction ${id} has ended`);
    return t;
  }

  private s(seg: number): SyncSegment {
    const s = this.segs.get(seg);
    if (!s) throw new PagedbError(ErrorCode.EMISUSE, `segment handle ${seg} is closed`);
    return s;
  }

  private addSeg(s: SyncSegment): number {
    const n = this.next++;
    this.segs.set(n, s);
    return n;
  }

  /** Append the batched bytes of a seg* op to its segment. */
  private feed(s: SyncSegment, data: Uint8Array[]): void {
    for (const c of data) s.append(c);
  }

  private apply(t: SyncTxn, ops: WriteOp[]): void {
    for (const o of ops) {
      if (o[0] === 0) t.put(o[1], o[2], o[3]);
      else if (o[0] === 1) t.delete(o[1], o[2]);
      else if (o[0] === 2) t.linkSegment(o[1], o[2]);
      else t.unlinkSegment(o[1]);
    }
  }

  /** Run one op synchronously; throws PagedbError. segCreate needs runBatch on OPFS. */
  run<K extends Op>(op: K, a: OpArgs[K]): OpResults[K] {
    const r = this.exec(op, a as never);
    return r as OpResults[K];
  }

  /**
   * Run `reqs` in order, one at a time, and hand their answers to `send` in request order,
   * in one or more messages (see the file header). Never rejects: a failing request is
   * answered `{ok: false, code, message}` and the next one runs. Callers run batches one
   * at a time (the worker queues them).
   */
  async runBatch(reqs: Request[], send: (reply: BatchReply) => void): Promise<void> {
    let out: Response[] = [];
    const pack = new Packer();
    const flush = async (): Promise<void> => {
      await this.settle();
      const transfer = pack.finish();
      const msg: BatchResponse = { batch: out };
      out = [];
      send({ msg, transfer });
    };
    for (const req of reqs) {
      let res: Response;
      try {
        let result: unknown;
        if (req.op === 'segCreate') {
          const s = await this.d().createSegmentAsync((req.args as OpArgs['segCreate']).realm);
          result = { seg: this.addSeg(s), id: s.id };
        } else {
          result = this.exec(req.op, req.args);
        }
        pack.result(req.op, result);
        res = { id: req.id, ok: true, result: result as OpResults[Op] };
      } catch (e) {
        res = { id: req.id, ok: false, ...toWire(e) };
      }
      out.push(res);
      if (out.length >= REPLY_MAX_RESPONSES || pack.bytes >= REPLY_MAX_BYTES) await flush();
    }
    if (out.length) await flush();
  }

  /** Let the backend complete deferred work (OPFS removals); failures are left to the next open. */
  private async settle(): Promise<void> {
    try {
      await this.m.pagedbVfs?.settle?.();
    } catch {
      /* a leftover file is deleted by the engine at the next read-write open */
    }
  }

  private exec(op: Op, a: any): unknown {
    switch (op) {
      case 'open':
        if (this.db) throw new PagedbError(ErrorCode.EMISUSE, 'already open');
        this.db = SyncDatabase.open(this.m, a.name, a.options);
        return null;
      case 'begin': {
        const id = a.txn;
        if (!Number.isSafeInteger(id) || id < 1 || this.txns.has(id))
          throw new PagedbError(ErrorCode.EMISUSE, `transaction number ${id} is invalid or in use`);
        const t = a.write ? this.d().beginWrite() : this.d().beginRead();
        this.txns.set(id, t);
        return { txn: id };
      }
      case 'get': {
        const t = this.t(a.txn);
        this.guard(a.txn, () => this.apply(t, a.ops));
        return { value: this.guard(a.txn, () => t.get(a.table, a.key)) };
      }
      case 'scan': {
        const t = this.t(a.txn);
        this.guard(a.txn, () => this.apply(t, a.ops));
        return this.guard(a.txn, () => t.scan(a.table, a.range, a.max));
      }
      case 'commit': {
        const t = this.t(a.txn);
        this.txns.delete(a.txn);
        try {
          this.apply(t, a.ops);
        } catch (e) {
          t.abort();
          throw e;
        }
        t.commit();
        return null;
      }
      case 'abort': {
        const t = this.txns.get(a.txn);
        this.txns.delete(a.txn);
        t?.abort();
        return null;
      }
      case 'writeBatch': {
        const t = this.d().beginWrite();
        try {
          this.apply(t, a.ops);
        } catch (e) {
          t.abort();
          throw e;
        }
        t.commit();
        return null;
      }
      case 'stat':
        return this.d().stat();
      case 'verify':
        return { pages: this.d().verify() };
      case 'segCreate': {
        const s = this.d().createSegment(a.realm);
        return { seg: this.addSeg(s), id: s.id };
      }
      case 'segOpen': {
        const s = this.d().openSegment(a.id, { append: a.append, verify: a.verify });
        return { seg: this.addSeg(s), info: s.stat() };
      }
      case 'segAppend':
        this.feed(this.s(a.seg), a.data);
        return null;
      case 'segRead': {
        const s = this.s(a.seg);
        this.feed(s, a.data);
        return { bytes: s.read(a.offset, a.length) };
      }
      case 'segSync': {
        const s = this.s(a.seg);
        this.feed(s, a.data);
        s.sync();
        return null;
      }
      case 'segSeal': {
        const s = this.s(a.seg);
        this.feed(s, a.data);
        s.seal();
        return { info: s.stat() };
      }
      case 'segStat': {
        const s = this.s(a.seg);
        this.feed(s, a.data);
        return { info: s.stat() };
      }
      case 'segVerify': {
        const s = this.s(a.seg);
        this.feed(s, a.data);
        return { pages: s.verify() };
      }
      case 'segClose': {
        const s = this.s(a.seg);
        this.segs.delete(a.seg);
        try {
          this.feed(s, a.data);
        } catch (e) {
          try {
            s.close();
          } catch {
            /* the append's error is the one to report */
          }
          throw e;
        }
        s.close();
        return null;
      }
      case 'segDelete': {
        const d = this.d();
        const r = d.beginRead();
        let linked: boolean;
        try {
          linked = r.getSegment(a.id) !== undefined;
        } finally {
          r.abort();
        }
        if (!linked) {
          d.deleteSegment(a.id);
          return null;
        }
        const w = d.beginWrite();
        try {
          w.unlinkSegment(a.id);
        } catch (e) {
          w.abort();
          throw e;
        }
        w.commit();
        return null;
      }
      case 'segGet': {
        const t = this.t(a.txn);
        this.guard(a.txn, () => this.apply(t, a.ops));
        return { info: this.guard(a.txn, () => t.getSegment(a.id)) };
      }
      case 'segList': {
        if (!a.txn) return { segments: this.d().listSegments() };
        const t = this.t(a.txn);
        this.guard(a.txn, () => this.apply(t, a.ops));
        return { segments: this.guard(a.txn, () => t.listSegments()) };
      }
      case 'close':
        for (const t of this.txns.values()) t.abort();
        this.txns.clear();
        this.segs.clear(); // SyncDatabase.close closes them
        try {
          this.db?.close();
        } finally {
          this.db = undefined;
          this.onClose?.();
        }
        return null;
    }
    throw new PagedbError(ErrorCode.EINVAL, `unknown op ${String(op)}`);
  }

  /** A failing op inside a write txn aborts it (the engine poisons it anyway). */
  private guard<T>(txn: number, f: () => T): T {
    try {
      return f();
    } catch (e) {
      const t = this.txns.get(txn);
      if (t && t.writable) {
        this.txns.delete(txn);
        t.abort();
      }
      throw e;
    }
  }
}

/** Convert anything thrown into {code, message}. */
export function toWire(e: unknown): { code: number; message: string } {
  if (e instanceof PagedbError) return { code: e.code, message: e.message.replace(/^PAGEDB_[A-Z]+: /, '') };
  const err = e as { pagedbCode?: number; message?: string };
  return { code: typeof err?.pagedbCode === 'number' ? err.pagedbCode : ErrorCode.EIO, message: String(err?.message ?? e) };
}
