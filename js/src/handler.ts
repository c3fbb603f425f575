/**
 * handler.ts — executes protocol ops against a SyncDatabase. The worker wraps it in
 * postMessage; under Node it is called in-process. Transactions are kept by id until
 * committed or aborted.
 */
import { SyncDatabase, type EmModule, type SyncTxn } from './engine.js';
import { PagedbError, ErrorCode } from './errors.js';
import type { OpArgs, OpResults, Op, WriteOp } from './protocol.js';

export class Handler {
  private db: SyncDatabase | undefined;
  private txns = new Map<number, SyncTxn>();
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

  private apply(t: SyncTxn, ops: WriteOp[]): void {
    for (const o of ops) {
      if (o[0] === 0) t.put(o[1], o[2], o[3]);
      else t.delete(o[1], o[2]);
    }
  }

  /** Run one op synchronously; throws PagedbError. */
  run<K extends Op>(op: K, a: OpArgs[K]): OpResults[K] {
    const r = this.exec(op, a as never);
    return r as OpResults[K];
  }

  private exec(op: Op, a: any): unknown {
    switch (op) {
      case 'open':
        if (this.db) throw new PagedbError(ErrorCode.EMISUSE, 'already open');
        this.db = SyncDatabase.open(this.m, a.name, a.options);
        return null;
      case 'begin': {
        const t = a.write ? this.d().beginWrite() : this.d().beginRead();
        const id = this.next++;
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
      case 'close':
        for (const t of this.txns.values()) t.abort();
        this.txns.clear();
        this.db?.close();
        this.db = undefined;
        this.onClose?.();
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
