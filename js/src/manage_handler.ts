/**
 * manage_handler.ts — the handler side (handler.ts) of the table management ops of
 * protocol.ts: `tables` and `count`, run in the client's transaction or, for txn 0, in a
 * fresh read snapshot.
 */
import type { SyncDatabase, SyncTxn } from './engine.js';
import type { OpArgs, OpResults } from './protocol.js';

/**
 * Run `tables` or `count`. `inTxn(txn, f)` runs f on the client's transaction `txn` after
 * applying its buffered writes (and aborts a write transaction when f throws).
 */
export function manageOp(d: SyncDatabase, op: 'tables', a: OpArgs['tables'],
  inTxn: <T>(txn: number, f: (t: SyncTxn) => T) => T): OpResults['tables'];
export function manageOp(d: SyncDatabase, op: 'count', a: OpArgs['count'],
  inTxn: <T>(txn: number, f: (t: SyncTxn) => T) => T): OpResults['count'];
export function manageOp(d: SyncDatabase, op: 'tables' | 'count', a: OpArgs['tables'] | OpArgs['count'],
  inTxn: <T>(txn: number, f: (t: SyncTxn) => T) => T): OpResults['tables'] | OpResults['count'] {
  const f = (t: SyncTxn) => {
    if (op === 'count') {
      const c = a as OpArgs['count'];
      return { count: t.count(c.table, c.range) };
    }
    const pageSize = d.stat().pageSize;
    return { tables: t.tableList().map((i) => ({ ...i, bytes: i.pages * pageSize })) };
  };
  if (a.txn) return inTxn(a.txn, f);
  const r = d.beginRead();
  try {
    return f(r);
  } finally {
    r.abort();
  }
}
