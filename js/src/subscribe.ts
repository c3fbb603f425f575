/**
 * subscribe.ts — change notifications (`db.subscribe`).
 *
 * After every durable commit the listeners of every Database open on the database — in
 * every tab and in the service worker (tabs.ts carries the owner's CommitResult to them)
 * — are called once with a {@link Change}: the commit's txn id, the tables it changed (with
 * their realm) and whether it linked or unlinked segments. A listener may ask for one
 * table and a key range; it is then called only for commits that changed a key in that
 * range of that table, or that cleared or dropped the table, or that changed more keys
 * than are reported one by one (CHANGED_KEYS_MAX: the range is then assumed touched).
 */
import { PagedbError, ErrorCode } from './errors.js';
import type { CommitResult } from './protocol.js';
import type { Bytes } from './types.js';
import { bytesArg, fnArg, tableName } from './validate.js';

/** A table changed by a commit (see {@link Change}). */
export interface ChangedTableInfo {
  /** Table name. */
  name: string;
  /** Its realm id (0 = default), undefined when the commit dropped the table. */
  realm: number | undefined;
  /**
   * Keys written or deleted (new Uint8Arrays), or undefined when every key may have
   * changed (cleared, dropped, or more than 64 keys changed).
   */
  keys: Uint8Array[] | undefined;
}

/** One durable commit, as seen by a {@link Database.subscribe} listener. */
export interface Change {
  /** The txn id the commit made durable (Stats.txnId after it). */
  txnId: number;
  /** Tables the commit changed, in name order. */
  tables: ChangedTableInfo[];
  /** True when it linked or unlinked segments. */
  segments: boolean;
  /**
   * True when commits may have been missed (the tab owning the database went away after
   * committing but before notifying): `tables` is then empty and the listener should
   * re-read what it shows. `txnId` is the current txn id.
   */
  gap?: boolean;
}

/** Filter of {@link Database.subscribe}: one table, optionally a key range of it. */
export interface SubscribeOptions {
  /** Only commits that changed this table. */
  table?: string;
  /** With `table`: only keys >= gte. */
  gte?: Bytes;
  /** With `table`: only keys < lt. */
  lt?: Bytes;
  /** With `table`: only keys starting with prefix. */
  prefix?: Bytes;
}

interface Filter {
  table?: string;
  gte?: Uint8Array;
  lt?: Uint8Array;
  prefix?: Uint8Array;
}

function cmp(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function inRange(k: Uint8Array, f: Filter): boolean {
  if (f.gte && cmp(k, f.gte) < 0) return false;
  if (f.lt && cmp(k, f.lt) >= 0) return false;
  if (f.prefix && (k.length < f.prefix.length || cmp(k.subarray(0, f.prefix.length), f.prefix) !== 0)) return false;
  return true;
}

/** Check subscribe()'s options; throws PagedbError EINVAL. */
export function subscribeOptions(o: unknown): Filter {
  if (o === undefined) return {};
  if (o === null || typeof o !== 'object') throw new PagedbError(ErrorCode.EINVAL, 'subscribe options must be an object');
  const r = o as Record<string, unknown>;
  for (const k of Object.keys(r))
    if (!['table', 'gte', 'lt', 'prefix'].includes(k)) throw new PagedbError(ErrorCode.EINVAL, `unknown subscribe option "${k}"`);
  const f: Filter = {};
  if (r.table !== undefined) f.table = tableName(r.table as string);
  for (const k of ['gte', 'lt', 'prefix'] as const) {
    if (r[k] === undefined) continue;
    if (f.table === undefined) throw new PagedbError(ErrorCode.EINVAL, `subscribe option "${k}" needs "table"`);
    f[k] = bytesArg(r[k], `options.${k}`).slice();
  }
  return f;
}

/** True when `c` concerns filter `f`. */
function matches(c: Change, f: Filter): boolean {
  if (c.gap) return true;
  if (f.table === undefined) return true;
  const t = c.tables.find((x) => x.name === f.table);
  if (!t) return false;
  if (!t.keys || (!f.gte && !f.lt && !f.prefix)) return true;
  return t.keys.some((k) => inRange(k, f));
}

/** The listeners of one Database. */
export class Subscribers {
  private subs = new Map<number, { fn: (c: Change) => void; f: Filter }>();
  private next = 1;

  /** Number of listeners. */
  get size(): number {
    return this.subs.size;
  }

  /** Add `fn` with filter `options`; returns its unsubscribe function (idempotent). */
  add(fn: unknown, options: unknown): () => void {
    fnArg(fn, 'subscribe listener');
    const f = subscribeOptions(options);
    const id = this.next++;
    this.subs.set(id, { fn: fn as (c: Change) => void, f });
    return () => {
      this.subs.delete(id);
    };
  }

  /**
   * Call the matching listeners with `c` (each gets its own copy of the key arrays). A
   * listener that throws does not stop the others; its error is re-thrown asynchronously.
   */
  emit(r: CommitResult & { gap?: boolean }): void {
    for (const { fn, f } of [...this.subs.values()]) {
      const c: Change = {
        txnId: r.txnId,
        tables: r.tables.map((t) => ({ name: t.name, realm: t.realm, keys: t.keys?.map((k) => k.slice()) })),
        segments: r.segments,
      };
      if (r.gap) c.gap = true;
      if (!matches(c, f)) continue;
      try {
        fn(c);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  /** Remove every listener. */
  clear(): void {
    this.subs.clear();
  }
}
