/**
 * handler.ts — executes protocol ops against a SyncDatabase. Three endpoints run it: the
 * dedicated worker (worker.ts, over postMessage), Node in-process (node.ts) and the
 * service worker's read-only snapshot (snapshot.ts). Each op is one function of a table
 * typed by protocol.ts (OpTable), so tsc checks every op's arguments and result.
 * Transactions are kept by the number the client chose in begin, segment handles by a
 * number assigned here, until committed/aborted or closed.
 *
 * runBatch is the entry point of every endpoint: it runs a batch's requests in order (see
 * protocol.ts), segCreate through SyncDatabase.createSegmentAsync (asynchronous file
 * creation on OPFS), every other op synchronously, and answers in messages of at most
 * REPLY_MAX_RESPONSES responses / about REPLY_MAX_BYTES of result bytes, so the client can
 * use the first answers while later requests still run. Before each answer message it
 * lets the backend complete deferred work (OPFS: removing the files of deleted or unlinked
 * segments; see opfs_backend.ts), so an answer never precedes the work of the ops it
 * answers. Messages are encoded by wire.ts.
 */
import { manageOp } from './manage_handler.js';
import { SnapshotOps } from './snapshot_handler.js';
import { SyncDatabase, check, testModeHook, type EmModule, type SyncSegment, type SyncTxn } from './engine.js';
import { PagedbError, ErrorCode, errorCodeOf } from './errors.js';
import {
  CHANGED_KEYS_MAX, IDEMPOTENCY_TABLE, REPLY_MAX_BYTES, REPLY_MAX_RESPONSES, type ChangedTable, type CommitResult, type OpArgs,
  type OpResults, type Op, type WriteOp,
} from './protocol.js';
import type { OpenOptions } from './types.js';
import { AnswerWriter, K_GET, K_SCAN, readRequests, type WireAnswers, type WireRequests } from './wire.js';

/** A handler for every op of protocol.ts: its arguments in, its result out. */
type OpTable = { [K in Op]: (a: OpArgs[K]) => OpResults[K] };

/** One answer message of a batch and the buffers it transfers. */
export interface BatchReply {
  msg: WireAnswers;
  transfer: ArrayBuffer[];
}

/** What a write transaction has changed so far (for its CommitResult). */
interface Changes {
  /** table -> keys written (undefined: every key may have changed); dropped tables too. */
  tables: Map<string, Uint8Array[] | undefined>;
  segments: boolean;
}

export class Handler {
  private db: SyncDatabase | undefined;
  private changes = new WeakMap<SyncTxn, Changes>();
  private txns = new Map<number, SyncTxn>();
  private segs = new Map<number, SyncSegment>();
  private snaps = new SnapshotOps();
  private next = 1;

  /**
   * A handler over module `m`, whose backend (m.pagedbVfs) is installed; the database is
   * opened by the first op, `open`. `onClose` runs after `close` (the worker releases its
   * OPFS handles there). Data key rotation and compaction (rotateStep, compactStep,
   * rotate_engine.ts): `rotation`
   * imports rotate_engine.ts and `loadFull` instantiates the full module
   * (dist/pagedb-full.wasm) under Node; without them (browsers) both are imported from the
   * URLs each rotateStep and compactStep carries (rotate_client.ts resolves them in the page).
   */
  constructor(private m: EmModule, private onClose?: () => void, private rotation?: () => Promise<unknown>,
    private loadFull?: (o: OpenOptions) => Promise<EmModule>) {}
  /** The open op's arguments (rotate_engine.ts reopens the database with them in the full module). */
  private opened: OpArgs['open'] | undefined;
  /** rotate_engine.ts, once loaded (the first rotateStep or compactStep). */
  private rot: unknown;

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
    if (ops.length) this.note(t, ops);
    for (const o of ops) {
      if (o[0] === 0) t.put(o[1], o[2], o[3]);
      else if (o[0] === 1) t.delete(o[1], o[2]);
      else if (o[0] === 2) t.linkSegment(o[1], o[2]);
      else if (o[0] === 3) t.unlinkSegment(o[1]);
      else if (o[0] === 4) t.dropTable(o[1]);
      else t.clearTable(o[1]);
    }
  }

  /** Record what `ops` change in `t` (for the commit's CommitResult). */
  private note(t: SyncTxn, ops: WriteOp[]): void {
    let c = this.changes.get(t);
    if (!c) this.changes.set(t, (c = { tables: new Map(), segments: false }));
    for (const o of ops) {
      if (o[0] === 2 || o[0] === 3) {
        c.segments = true;
        continue;
      }
      const name = o[1] as string;
      if (o[0] === 4 || o[0] === 5) {
        c.tables.set(name, undefined);
        continue;
      }
      const had = c.tables.get(name);
      if (!c.tables.has(name)) c.tables.set(name, [o[2]]);
      else if (had && had.length < CHANGED_KEYS_MAX) had.push(o[2]);
      else c.tables.set(name, undefined);
    }
  }

  /**
   * Commit write transaction `t`: record `idem` first (FORMAT.md §11; EEXIST "already
   * committed" when it is recorded: `t` is then aborted), then commit and describe the
   * changes. Throws the engine's error (t aborted).
   */
  private commitWrite(t: SyncTxn, idem: string | undefined): CommitResult {
    const c = this.changes.get(t);
    this.changes.delete(t);
    let tables: ChangedTable[] = [];
    try {
      if (c?.tables.size) {
        const realms = new Map<string, number>();
        for (const i of t.tableList()) realms.set(i.name, i.realm);
        tables = [...c.tables].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
          .map(([name, keys]) => ({ name, realm: realms.get(name), keys }));
      }
      if (idem !== undefined) {
        const key = idempotencyKey(idem);
        const seen = t.get(IDEMPOTENCY_TABLE, key);
        if (seen !== undefined) {
          const txn = seen.length >= 8 ? Number(new DataView(seen.buffer, seen.byteOffset).getBigUint64(0, true)) : 0;
          throw new PagedbError(ErrorCode.EEXIST, `already committed: idempotency id "${idem}" was committed by txn ${txn}`);
        }
        const v = new DataView(new ArrayBuffer(16));
        v.setBigUint64(0, BigInt(this.d().stat().txnId + 1), true);
        v.setFloat64(8, Date.now(), true);
        t.put(IDEMPOTENCY_TABLE, key, new Uint8Array(v.buffer));
      }
    } catch (e) {
      t.abort();
      throw e;
    }
    t.commit();
    return { txnId: this.d().stat().txnId, tables, segments: c?.segments ?? false };
  }

  /** Run one op synchronously; throws PagedbError. segCreate needs runBatch on OPFS. */
  run<K extends Op>(op: K, a: OpArgs[K]): OpResults[K] {
    return this.exec(op, a);
  }

  /**
   * Run the requests of `batch` in order, one at a time, and hand their answers to `send`
   * in request order, in one or more messages (see the file header). Never rejects: a
   * failing request is answered with its code and message and the next one runs. Gets and
   * scans copy their bytes straight from the wasm heap into the answer (wire.ts). Callers
   * run batches one at a time (the worker queues them).
   */
  async runBatch(batch: WireRequests, send: (reply: BatchReply) => void): Promise<void> {
    const out = new AnswerWriter();
    out.first = batch.first;
    const flush = async (): Promise<void> => {
      await this.settle();
      send(out.take());
    };
    for (const req of readRequests(batch)) {
      try {
        if (req.kind === K_GET) {
          const t = this.t(req.txn);
          out.value(this.guard(req.txn, () => t.getView(req.table, req.key)));
        } else if (req.kind === K_SCAN) {
          const t = this.t(req.txn);
          const r = this.guard(req.txn, () => t.scanRecords(req.table, req.range, req.max));
          out.scan(r.records, r.count, r.more);
        } else if (req.op === 'get') {
          const a = req.args as OpArgs['get'], t = this.t(a.txn);
          this.guard(a.txn, () => this.apply(t, a.ops));
          out.value(this.guard(a.txn, () => t.getView(a.table, a.key)));
        } else if (req.op === 'scan') {
          const a = req.args as OpArgs['scan'], t = this.t(a.txn);
          this.guard(a.txn, () => this.apply(t, a.ops));
          const r = this.guard(a.txn, () => t.scanRecords(a.table, a.range, a.max));
          out.scan(r.records, r.count, r.more);
        } else if (req.op === 'rotateStep' || req.op === 'compactStep') {
          // rotate_engine.ts: loaded on the first step (from the URL the op carries, in
          // browsers: a worker bundle holds no lazily loaded chunk)
          const a = req.args as OpArgs['rotateStep'] & OpArgs['compactStep'];
          const r = (this.rot ??= this.rotation ? await this.rotation() :
            await import(/* @vite-ignore */ /* webpackIgnore: true */ a.full?.engine ?? './rotate_engine.js')) as typeof import('./rotate_engine.js');
          out.obj(req.op, await r[req.op](this, a, { SyncDatabase, PagedbError, ErrorCode, check, testModeHook, loadFull: this.loadFull }));
        } else if (req.op === 'segCreate') {
          const s = await this.d().createSegmentAsync((req.args as OpArgs['segCreate']).realm);
          out.obj(req.op, { seg: this.addSeg(s), id: s.id });
        } else {
          // the args of a decoded message are trusted to match their op (wire.ts)
          out.obj(req.op, this.exec(req.op, req.args as OpArgs[typeof req.op]));
        }
      } catch (e) {
        const w = toWire(e);
        out.error(w.code, w.message);
      }
      if (out.count >= REPLY_MAX_RESPONSES || out.size >= REPLY_MAX_BYTES) await flush();
    }
    if (out.count) await flush();
  }

  /** The maintenance ops (rotate_engine.ts, loaded asynchronously) run only through runBatch. */
  private viaBatch(): never {
    throw new PagedbError(ErrorCode.EMISUSE, 'rotateStep and compactStep run through runBatch');
  }

  /** Let the backend complete deferred work (OPFS removals); failures are left to the next open. */
  private async settle(): Promise<void> {
    try {
      await this.m.pagedbVfs?.settle?.();
    } catch {
      /* a leftover file is deleted by the engine at the next read-write open */
    }
  }

  /**
   * The op table: one function per op of protocol.ts, typed by OpArgs and OpResults, so an
   * op whose handler takes other arguments or returns another result than protocol.ts
   * declares, or a missing or unknown op, fails `tsc`. Each runs synchronously and throws
   * PagedbError (segCreate through runBatch is the asynchronous exception, see runBatch).
   */
  private readonly ops: OpTable = {
    open: (a) => {
      if (this.db) throw new PagedbError(ErrorCode.EMISUSE, 'already open');
      this.db = SyncDatabase.open(this.m, a.name, a.options);
      this.opened = a;
      return null;
    },
    begin: (a) => {
      const id = a.txn;
      if (!Number.isSafeInteger(id) || id < 1 || this.txns.has(id))
        throw new PagedbError(ErrorCode.EMISUSE, `transaction number ${id} is invalid or in use`);
      const t = a.write ? this.d().beginWrite() : this.d().beginRead();
      this.txns.set(id, t);
      return { txn: id };
    },
    get: (a) => {
      const t = this.t(a.txn);
      this.guard(a.txn, () => this.apply(t, a.ops));
      return { value: this.guard(a.txn, () => t.get(a.table, a.key)) };
    },
    scan: (a) => {
      const t = this.t(a.txn);
      this.guard(a.txn, () => this.apply(t, a.ops));
      return this.guard(a.txn, () => t.scan(a.table, a.range, a.max));
    },
    commit: (a) => {
      const t = this.t(a.txn);
      this.txns.delete(a.txn);
      try {
        this.apply(t, a.ops);
      } catch (e) {
        t.abort();
        throw e;
      }
      return this.commitWrite(t, a.idem);
    },
    abort: (a) => {
      const t = this.txns.get(a.txn);
      this.txns.delete(a.txn);
      t?.abort();
      return null;
    },
    writeBatch: (a) => {
      const t = this.d().beginWrite();
      try {
        this.apply(t, a.ops);
      } catch (e) {
        t.abort();
        throw e;
      }
      return this.commitWrite(t, a.idem);
    },
    stat: () => this.d().stat(),
    verify: () => ({ pages: this.d().verify() }),
    segCreate: (a) => {
      const s = this.d().createSegment(a.realm);
      return { seg: this.addSeg(s), id: s.id };
    },
    segOpen: (a) => {
      const s = this.d().openSegment(a.id, { append: a.append, verify: a.verify });
      return { seg: this.addSeg(s), info: s.stat() };
    },
    segAppend: (a) => {
      this.feed(this.s(a.seg), a.data);
      return null;
    },
    segRead: (a) => {
      const s = this.s(a.seg);
      this.feed(s, a.data);
      return { bytes: s.read(a.offset, a.length) };
    },
    segSync: (a) => {
      const s = this.s(a.seg);
      this.feed(s, a.data);
      s.sync();
      return null;
    },
    segSeal: (a) => {
      const s = this.s(a.seg);
      this.feed(s, a.data);
      s.seal();
      return { info: s.stat() };
    },
    segStat: (a) => {
      const s = this.s(a.seg);
      this.feed(s, a.data);
      return { info: s.stat() };
    },
    segVerify: (a) => {
      const s = this.s(a.seg);
      this.feed(s, a.data);
      return { pages: s.verify() };
    },
    segClose: (a) => {
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
    },
    segDelete: (a) => {
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
      return { txnId: d.stat().txnId, tables: [], segments: true };
    },
    segGet: (a) => {
      const t = this.t(a.txn);
      this.guard(a.txn, () => this.apply(t, a.ops));
      return { info: this.guard(a.txn, () => t.getSegment(a.id)) };
    },
    segList: (a) => {
      if (!a.txn) return { segments: this.d().listSegments() };
      const t = this.t(a.txn);
      this.guard(a.txn, () => this.apply(t, a.ops));
      return { segments: this.guard(a.txn, () => t.listSegments()) };
    },
    tables: (a) => {
      const r = manageOp(this.d(), 'tables', a, (txn, f) => this.inTxn(txn, a.ops, f));
      return { tables: r.tables.filter((i) => i.name !== IDEMPOTENCY_TABLE) };
    },
    count: (a) => manageOp(this.d(), 'count', a, (txn, f) => this.inTxn(txn, a.ops, f)),
    snapBegin: (a) => this.snaps.begin(this.d(), a),
    snapNext: (a) => this.snaps.step(a),
    snapEnd: (a) => this.snaps.end(a),
    compactStep: () => this.viaBatch(),
    rotateStep: () => this.viaBatch(),
    rekey: (a) => {
      this.d().rekey(a);
      return null;
    },
    close: () => {
      this.snaps.closeAll();
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
    },
  };

  /** Run `op` from the table; EINVAL for a name that is not an op (a malformed message). */
  private exec<K extends Op>(op: K, a: OpArgs[K]): OpResults[K] {
    if (!Object.prototype.hasOwnProperty.call(this.ops, op)) throw new PagedbError(ErrorCode.EINVAL, `unknown op ${String(op)}`);
    const f: (a: OpArgs[K]) => OpResults[K] = this.ops[op];
    return f(a);
  }

  /** f on the client's transaction `txn` after applying its buffered `ops` (see guard). */
  private inTxn<T>(txn: number, ops: WriteOp[], f: (t: SyncTxn) => T): T {
    const t = this.t(txn);
    this.guard(txn, () => this.apply(t, ops));
    return this.guard(txn, () => f(t));
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

/** The key of idempotency id `idem` in IDEMPOTENCY_TABLE: its UTF-8 bytes (1..255). */
function idempotencyKey(idem: unknown): Uint8Array {
  const k = typeof idem === 'string' ? new TextEncoder().encode(idem) : undefined;
  if (!k || k.length < 1 || k.length > 255)
    throw new PagedbError(ErrorCode.EINVAL, 'idempotency id must be a string of 1..255 UTF-8 bytes');
  return k;
}

/** Convert anything thrown into {code, message} (the code of errors.ts errorCodeOf). */
export function toWire(e: unknown): { code: number; message: string } {
  if (e instanceof PagedbError) return { code: e.code, message: e.message.replace(/^PAGEDB_[A-Z_]+: /, '') };
  return { code: errorCodeOf(e), message: String((e as { message?: unknown } | null)?.message ?? e) };
}
