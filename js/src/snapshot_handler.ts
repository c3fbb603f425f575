/**
 * snapshot_handler.ts — the snapshot export ops of handler.ts (protocol.ts snapBegin,
 * snapNext, snapEnd): exports kept by a number assigned here until snapEnd or close.
 * Rekey and compaction ops, when the engine has them, follow the same pattern (begin /
 * step / end, the cancel flag set by end).
 */
import type { SyncDatabase } from './engine.js';
import { PagedbError, ErrorCode } from './errors.js';
import type { OpArgs, OpResults } from './protocol.js';
import { SyncExport } from './snapshot_engine.js';

/** The exports of one handler (one database); single-threaded like the handler. */
export class SnapshotOps {
  private exports = new Map<number, SyncExport>();
  // numbers start at a random point: after the owning tab changes hands, a stream's old
  // number reaches a new handler, where it must not name another stream's export
  private next = 1 + Math.floor(Math.random() * 2 ** 40);

  private x(n: number): SyncExport {
    const e = this.exports.get(n);
    if (!e) throw new PagedbError(ErrorCode.EMISUSE, `snapshot export ${n} has ended`);
    return e;
  }

  /** snapBegin: pin db's current snapshot. Throws as SyncExport's constructor (EINVAL, EBUSY, ENOMEM). */
  begin(db: SyncDatabase, a: OpArgs['snapBegin']): OpResults['snapBegin'] {
    const e = new SyncExport(db, a.since);
    const n = this.next++;
    this.exports.set(n, e);
    return { snap: n };
  }

  /**
   * snapNext: the next chunk. Throws EMISUSE (unknown or ended export) or the engine's
   * error (SyncExport.next), which also ends the export.
   */
  step(a: OpArgs['snapNext']): OpResults['snapNext'] {
    const e = this.x(a.snap);
    try {
      const bytes = e.next(a.window);
      return { bytes, done: e.done, progress: e.progress };
    } catch (err) {
      this.exports.delete(a.snap);
      e.end();
      throw err;
    }
  }

  /** End an export; with cancel, through the engine's cancel flag (rejects ECANCELED). */
  end(a: OpArgs['snapEnd']): OpResults['snapEnd'] {
    const e = this.exports.get(a.snap);
    if (!e) return null;
    this.exports.delete(a.snap);
    try {
      if (a.cancel && !e.done) {
        e.cancel();
        e.next(1); // throws the engine's ECANCELED
      }
    } finally {
      e.end();
    }
    return null;
  }

  /** End every export (before the database closes). */
  closeAll(): void {
    for (const e of this.exports.values()) e.end();
    this.exports.clear();
  }
}
