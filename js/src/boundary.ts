/**
 * boundary.ts — binds a freshly instantiated wasm module to the package before the engine
 * calls it (engine.ts SyncDatabase.open does, once per module):
 *
 *  - installs Module.pagedbErrorCode = errors.ts errorCodeOf, the one exception-to-code
 *    mapping, which the wasm imports (platform/opfs/lib.js) use for whatever a storage
 *    backend throws;
 *  - makes every call into the engine (each exported `_pagedb_*` / `_pdbjs_*` function but
 *    the two that read the error of the previous call) start with no recorded backend
 *    error, so Module.pagedbLastError — set by lib.js when a backend throws — names an
 *    error of the current call only: an error the engine handled inside an earlier call
 *    (the absent directory listed while creating, say) never reaches a later, unrelated
 *    PagedbError's message;
 *  - reads the layout of glue.c's flattened records from C (pagedb_js.h): the pagedb_stats
 *    field names in pdbjs_stat's order, and the segment and table info record sizes.
 *
 * Thread-safety: a module belongs to one thread (its worker or the Node event loop).
 */
import { errorCodeOf } from './errors.js';
import type { EmModule } from './engine.js';
import type { Stats } from './types.js';

/** The layout of glue.c's records, as the C side reports it. */
export interface Layout {
  /** The Stats keys of pdbjs_stat's doubles, in order (camelCase of PDBJS_STAT_FIELDS). */
  statKeys: (keyof Stats)[];
  /** PDBJS_SEGINFO_BYTES: bytes of one flattened segment info record before its metadata. */
  segInfoBytes: number;
  /** PDBJS_TABINFO_BYTES: bytes of one flattened table info record before its name. */
  tabInfoBytes: number;
}

const bound = new WeakMap<EmModule, Layout>();

/** Exported functions that read the outcome of the previous call (never reset it). */
const READS_LAST_ERROR = new Set(['_pagedb_errdetail', '_pagedb_strerror']);

const camel = (s: string): string => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Replace export `name` of `mod` with a function that clears m.pagedbLastError and calls
 * the export. Emscripten's export stubs (`function(){return(_x=Module["_x"]=
 * Module["asm"]["O"]).apply(null,arguments)}`) replace themselves with the raw wasm function
 * on their first call, which would drop a plain wrapper: the wrapper calls the raw function
 * found through the stub's text instead (a few ns per call). A stub of another shape gets
 * an accessor that follows its self-replacement (correct, slower).
 */
function wrapExport(m: EmModule, mod: Record<string, unknown>, name: string): void {
  type Fn = (...a: unknown[]) => unknown;
  let f = mod[name] as Fn;
  const asm = mod.asm as Record<string, unknown> | undefined;
  const hit = /Module\["asm"\]\["([^"]+)"\]/.exec(String(f));
  const native = /\{\s*\[native code\]\s*\}\s*$/.test(String(f));
  const raw = hit && asm ? asm[hit[1]] : undefined;
  if (typeof raw === 'function') f = raw as Fn;
  const call = (...a: unknown[]): unknown => {
    m.pagedbLastError = undefined;
    return f(...a);
  };
  if (typeof raw === 'function' || native) {
    mod[name] = call;
    return;
  }
  Object.defineProperty(mod, name, {
    configurable: true,
    enumerable: true,
    get: () => call,
    set: (g: Fn) => {
      f = g;
    },
  });
}

/**
 * Bind module `m` (idempotent; see the file header) and return its record layout. Must run
 * before the first call into the engine. Never throws.
 */
export function bindModule(m: EmModule): Layout {
  let layout = bound.get(m);
  if (layout) return layout;
  m.pagedbErrorCode = errorCodeOf;
  const mod = m as unknown as Record<string, unknown>;
  for (const name of Object.keys(mod)) {
    if (!/^_(pagedb|pdbjs)_/.test(name) || READS_LAST_ERROR.has(name) || typeof mod[name] !== 'function') continue;
    wrapExport(m, mod, name);
  }
  layout = {
    statKeys: m.UTF8ToString(m._pdbjs_stat_names()).trim().split(/ +/).map(camel) as (keyof Stats)[],
    segInfoBytes: m._pdbjs_seginfo_bytes(),
    tabInfoBytes: m._pdbjs_tabinfo_bytes(),
  };
  bound.set(m, layout);
  return layout;
}
