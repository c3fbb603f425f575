/**
 * manage_engine.ts — the engine side of table management (engine.ts SyncTxn.tableList,
 * count): decoding the records of pdbjs_table_list and counting ranges with pdbjs_count
 * (platform/opfs/glue.c, record layout in pagedb_js.h).
 */
import { PagedbError, ErrorCode } from './errors.js';
import { check, type EmModule } from './engine.js';
import { bindModule } from './boundary.js';
import { toBytes, type RangeOptions } from './types.js';

/** One table as the engine lists it (counts exact below 2^53). */
export interface RawTableInfo {
  /** Table name. */
  name: string;
  /** Owning realm id (0 = the default realm). */
  realm: number;
  /** Number of keys. */
  entries: number;
  /** Pages of its B+ tree (branch + leaf + overflow pages). */
  pages: number;
  /** Tree height (1 = a single leaf). */
  depth: number;
}

const dec = new TextDecoder();

/**
 * Every table of transaction `txn` in name order. `heap(n)` returns a scratch area of n
 * bytes in the wasm heap. Throws PagedbError (EAUTH/ECORRUPT/EIO, EMISUSE).
 */
export function listTables(m: EmModule, txn: number, heap: (n: number) => number): RawTableInfo[] {
  const all: RawTableInfo[] = [];
  const TABINFO_BYTES = bindModule(m).tabInfoBytes; // PDBJS_TABINFO_BYTES (pagedb_js.h)
  let after = '', cap = 64 * 1024;
  for (;;) {
    const an = m.lengthBytesUTF8(after) + 1;
    const base = heap(an + cap + 32);
    m.stringToUTF8(after, base, an);
    const out = (base + an + 7) & ~7, res = out + cap;
    check(m, m._pdbjs_table_list(txn, base, out, cap, res));
    const used = m.HEAP32[res >> 2], count = m.HEAP32[(res >> 2) + 1], more = m.HEAP32[(res >> 2) + 2] === 1,
      need = m.HEAP32[(res >> 2) + 3];
    if (count === 0 && more) {
      cap = Math.max(cap * 2, need);
      continue;
    }
    const dv = new DataView(m.HEAPU8.buffer, out, used);
    for (let off = 0; off < used;) {
      const nl = dv.getUint32(off, true);
      const info: RawTableInfo = {
        name: dec.decode(m.HEAPU8.subarray(out + off + TABINFO_BYTES, out + off + TABINFO_BYTES + nl)),
        realm: dv.getUint32(off + 4, true),
        entries: dv.getFloat64(off + 8, true),
        pages: dv.getFloat64(off + 16, true),
        depth: dv.getUint32(off + 24, true),
      };
      all.push(info);
      after = info.name;
      off += TABINFO_BYTES + nl;
    }
    if (!more) return all;
  }
}

/**
 * Entries of a range of the open table `t`. Without gte/lt/prefix the catalog's count
 * (`whole()`) is used, capped by limit; otherwise pdbjs_count scans the range without
 * copying entries out. Throws PagedbError EINVAL for a negative or non-integer limit.
 */
export function countRange(m: EmModule, t: number, r: RangeOptions, heap: (n: number) => number, whole: () => number): number {
  const limit = r.limit;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0))
    throw new PagedbError(ErrorCode.EINVAL, `range limit must be a non-negative integer, got ${String(limit)}`);
  if (limit === 0) return 0;
  if (r.gte === undefined && r.lt === undefined && r.prefix === undefined) return Math.min(whole(), limit ?? Infinity);
  const from = r.gte !== undefined ? toBytes(r.gte) : undefined;
  const to = r.lt !== undefined ? toBytes(r.lt) : undefined;
  const pre = r.prefix !== undefined ? toBytes(r.prefix) : undefined;
  const base = heap((from?.length ?? 0) + (to?.length ?? 0) + (pre?.length ?? 0) + 16);
  let off = base;
  const put = (b?: Uint8Array): number => {
    if (!b) return 0;
    const p = off;
    m.HEAPU8.set(b, p);
    off += b.length;
    return p;
  };
  const fp = put(from), tp = put(to), pp = put(pre);
  const out = (off + 7) & ~7;
  check(m, m._pdbjs_count(t, fp, from ? from.length : -1, tp, to ? to.length : -1, pp, pre ? pre.length : -1,
    limit ?? 0, out));
  return m.HEAPF64[out >> 3];
}
