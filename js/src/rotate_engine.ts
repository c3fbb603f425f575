/**
 * rotate_engine.ts — the engine side of the full module's maintenance: data key rotation
 * (db.rotateKeys; pagedb.h pagedb_rekey with no new KEK, docs/FORMAT.md §13.3) and online
 * compaction (db.compact; pagedb_compact, §12): switching an open database from the
 * first-load module to the full module, and running one step of either.
 *
 * Why a second module: the module every endpoint loads first (dist/pagedb.wasm) is built
 * without rotation and compaction (-DPAGEDB_NO_ROTATE -DPAGEDB_NO_COMPACT,
 * scripts/build-emscripten.sh): the rotation walker is about 5 kB gzip, compaction about
 * 3 kB, and a page's first load has no room for them. The full module
 * (dist/pagedb-full.wasm: the same engine plus both and platform/opfs/glue_rotate.c's
 * pdbjs_rotate_step and pdbjs_compact_step) is loaded by this file on the first rotation
 * or compaction step, never before.
 *
 * How this file is loaded: it has no runtime import (only types), so it can be loaded as
 * it is from a URL. In browsers the page's lazily loaded rotate_client.ts resolves the
 * URLs of this file, of the full module's worker glue and of its wasm (so a bundler emits
 * them as assets of that lazy chunk, never of the first load) and sends them with every
 * rotateStep and compactStep; the engine's handler (handler.ts, in the worker, whose
 * bundle cannot hold lazily loaded chunks) import()s them. Under Node, node.ts imports it and
 * module_full_node.ts. What it needs of the engine comes in `Deps`.
 *
 * The switch (the first rotateStep or compactStep; one switch for both), inside
 * Handler.runBatch, so no other request of this handler runs meanwhile (endpoints run batches one at a time; requests wait in their
 * queue):
 *  1. the handler must be idle: no transaction, segment handle or snapshot export open
 *     (each holds state of the first module). Otherwise EBUSY at once, never a wait here
 *     (it would block the requests that end them); Database.rotateKeys and
 *     Database.compact retry for a bounded time (their busyTimeout option);
 *  2. the full module is instantiated (with the open's test-mode hook) and given the same
 *     storage backend (m.pagedbVfs: OPFS access handles and node:fs paths stay; only VFS
 *     handles are closed and opened again);
 *  3. deferred backend work is settled; the database is closed in the first module (a
 *     clean close; the backend's files stay open: an OPFS access handle can only be
 *     created asynchronously) and opened in the full one with the same options and the credential it
 *     opens with now (after a db.rekey, the new one), never creating;
 *  4. from then on every op of the handler runs in the full module until the database
 *     closes. If the reopen fails, the database is opened again in the first module and
 *     the reopen's error thrown; if that fails too, the handler has no database (later
 *     ops: EMISUSE "database is not open").
 * Under Node the OS lock (node_backend.ts) is free between the close and the reopen (a
 * few ms): another process opening the database read-write then gets it, and the reopen
 * fails with EBUSY.
 * Thread-safety: the handler's thread, inside its batch queue.
 */
import type { EmModule, SyncDatabase, check, testModeHook } from './engine.js';
import type { PagedbError } from './errors.js';
import type { ErrorCode } from './error_codes.js';
import type { Handler } from './handler.js';
import type { FullModuleUrls, OpArgs, OpResults } from './protocol.js';
import type { MaintenanceProgress, OpenOptions } from './types.js';

/** What this file uses of the engine (handler.ts passes them: this file imports nothing). */
export interface Deps {
  SyncDatabase: typeof SyncDatabase;
  PagedbError: typeof PagedbError;
  ErrorCode: typeof ErrorCode;
  check: typeof check;
  testModeHook: typeof testModeHook;
  /** Under Node: instantiate the full module (module_full_node.ts); browsers use `full`. */
  loadFull?: (o: OpenOptions) => Promise<EmModule>;
}

/** Instantiate the full module's worker glue from `u` (browsers). */
async function loadFromUrls(u: FullModuleUrls, o: OpenOptions, d: Deps): Promise<EmModule> {
  const f = (await import(/* @vite-ignore */ /* webpackIgnore: true */ u.glue)) as { default: (o: object) => Promise<EmModule> };
  return f.default({ locateFile: () => u.wasm, preRun: [d.testModeHook(o)] });
}

/**
 * Move handler `h`'s open database to the full module (see the file header). Throws
 * PagedbError: EMISUSE (no database open), ENOTSUP (no way to load the full module),
 * EBUSY (transactions, segment handles or snapshot exports open: the message counts
 * them), EIO (loading the module failed), the reopen's errors (EBUSY, ENOMEM, EIO, EKEY
 * when another handle changed the key meanwhile).
 */
async function toFull(h: Handler, full: FullModuleUrls | undefined, d: Deps): Promise<void> {
  const E = d.ErrorCode;
  const busy = (): void => idle(h, d, 'data key rotation and compaction switch the database to the full module');
  busy();
  const old = h['m'], a = h['opened']!;
  let m: EmModule;
  try {
    if (d.loadFull) m = await d.loadFull(a.options);
    else if (full) m = await loadFromUrls(full, a.options, d);
    else throw new d.PagedbError(E.ENOTSUP, 'data key rotation and compaction need the full module, which this endpoint cannot load');
  } catch (e) {
    throw e instanceof d.PagedbError ? e : new d.PagedbError(E.EIO, `loading the full module (pagedb-full.wasm): ${String(e)}`);
  }
  m.pagedbVfs = old.pagedbVfs;
  await h['settle']();
  busy(); // nothing can have opened meanwhile (the batch queue), but never switch under open state
  await reopen(h, m, d);
}

/** EBUSY (`why`, then what is open) unless handler h has no transaction, segment handle or
    snapshot export open (each holds engine state a close would end). */
function idle(h: Handler, d: Deps, why: string): void {
  const t = h['txns'].size, s = h['segs'].size, x = (h['snaps'] as unknown as { exports: Map<number, unknown> }).exports.size;
  if (t + s + x)
    throw new d.PagedbError(d.ErrorCode.EBUSY, `${why}, which needs it idle: ` +
      `${t} transaction(s), ${s} segment handle(s) and ${x} snapshot export(s) are open; close them and call again`);
}

/**
 * Close handler h's (idle) database and open it in module `m` (the same or the full one)
 * with the options it was opened with and the credential it opens with now, never
 * creating; `between` runs while it is closed. The backend's files stay open across the
 * close (SyncDatabase.close would release them: OPFS access handles can only be created
 * again asynchronously). If the open in a new module fails, the database is opened again
 * in the old one and the error thrown; if that fails too, the handler has no database
 * (later ops: EMISUSE "database is not open"). `between`'s error is thrown after the open.
 */
async function reopen(h: Handler, m: EmModule, d: Deps, between?: () => Promise<void>): Promise<void> {
  const db = h['d'](), a = h['opened']!, old = h['m'];
  const cred = db['cred'];
  const o = { ...a.options, key: cred.key?.slice(), passphrase: cred.passphrase, create: false };
  const vfs = old.pagedbVfs!;
  old.pagedbVfs = new Proxy(vfs, { get: (t, k) => (k === 'releaseAll' ? () => undefined : Reflect.get(t, k)) });
  try {
    db.close();
  } finally {
    old.pagedbVfs = vfs;
  }
  h['db'] = undefined;
  let failed: unknown;
  await between?.().catch((e: unknown) => void (failed = e ?? new Error('failed')));
  try {
    h['db'] = d.SyncDatabase.open(m, a.name, o);
    h['m'] = m;
  } catch (e) {
    try {
      if (m !== old) h['db'] = d.SyncDatabase.open(old, a.name, o);
    } catch {
      /* no database: later ops get EMISUSE */
    }
    throw e;
  }
  if (failed) throw failed;
}

/**
 * Run one step of the full module's maintenance entry `f` (pdbjs_rotate_step or
 * pdbjs_compact_step, platform/opfs/glue_rotate.c: 8 doubles of progress at `p`) on the
 * handler's database, switching it to the full module first (toFull) if the handler still
 * runs the first-load one. Throws what toFull and the step throw (PagedbError).
 */
async function run(h: Handler, full: FullModuleUrls | undefined, d: Deps, f: 'rotate' | 'compact',
  call: (fn: (...a: number[]) => number, db: number, p: number) => number): Promise<{ done: boolean; progress: MaintenanceProgress }> {
  const name = f === 'rotate' ? '_pdbjs_rotate_step' : '_pdbjs_compact_step';
  if (!h['m'][name]) await toFull(h, full, d);
  const db = h['d'](), m = h['m'];
  db['alive']();
  const p = db.heap(64);
  const rc = call(m[name]!, db.db, p);
  const v = m.HEAPF64.subarray(p >> 3, (p >> 3) + 8);
  const done = v[7] === 1;
  const progress = { phase: done ? 0 : v[0], pagesDone: v[2], pagesTotal: v[3], bytesWritten: v[4], steps: 1, pageCount: v[5], targetPages: v[6], done };
  d.check(m, rc);
  return { done, progress };
}

/** pagesPerStep is an integer 0..2^31-1 (0 = 256), else EINVAL naming `op`. */
function checkPages(op: string, n: number, d: Deps): void {
  if (!(Number.isInteger(n) && n >= 0 && n <= 0x7fffffff)) throw new d.PagedbError(d.ErrorCode.EINVAL, `${op}: pagesPerStep must be 0..2^31-1`);
}

/**
 * The rotateStep op (Handler.runBatch): switch to the full module first if the handler
 * still runs the first-load one (toFull), then run one step of data key rotation of
 * realm `a.realm` (an id, or 0xffffffff = every realm): pdbjs_rotate_step re-seals up to
 * `a.pagesPerStep` pages (0 = 256) of the old key epoch, or one segment file, or runs one
 * of the later phases, in one write transaction that also stores where the rotation
 * stands. Call until `done` (the old key is then destroyed); stopping between calls is a
 * clean cancel (the next call, by this or a later handle, resumes from the record).
 * progress.phase is the phase of §13.3 of the step (1, 5, 2, 3, 4, 6; 0 when done);
 * pagesDone/pagesTotal count re-sealed and overwritten pages over the whole rotation;
 * bytesWritten and steps this step only; targetPages 0.
 * On OPFS a step that switches a segment file to its re-sealed copy closes the database,
 * moves the file and opens it again (FORMAT.md §13.3 "OPFS"): it needs the handler idle.
 * Throws PagedbError: those of toFull; ENOTSUP (the backend has no rename and the
 * rotated realms have segments: checked before every step, nothing changed), EBUSY (a write transaction of the handle is open;
 * on OPFS, a transaction, segment handle or export open when a segment file must be moved;
 * snapshots older than the re-seal are still open, or a segment of a rotated realm is
 * open for append: call again later), ENOTFOUND (no such realm), EMISUSE (read-only or
 * closed), EINVAL (realm not in 0..2^32-1, pagesPerStep not in 0..2^31-1), EFULL, EIO/ENOMEM
 * (the step was rolled back; earlier steps stay), EAUTH/ECORRUPT (a damaged page, record
 * or segment).
 */
export async function rotateStep(h: Handler, a: OpArgs['rotateStep'], d: Deps): Promise<OpResults['rotateStep']> {
  checkPages('rotateStep', a.pagesPerStep, d);
  if (!(Number.isInteger(a.realm) && a.realm >= 0 && a.realm <= 0xffffffff))
    throw new d.PagedbError(d.ErrorCode.EINVAL, 'rotateStep: realm must be 0..2^32-1');
  // a backend without rename cannot re-seal segment files (FORMAT.md §13.3 phase 5):
  // refuse before any step rather than stop half-way (whose segments the first-load module
  // then refuses until the rotation is finished elsewhere)
  if (typeof h['m'].pagedbVfs?.rename !== 'function') {
    const n = h['d']().listSegments().filter((s) => a.realm === 0xffffffff || s.realm === a.realm).length;
    if (n)
      throw new d.PagedbError(d.ErrorCode.ENOTSUP, `data key rotation re-seals segment files by renaming a copy over each, which this ` +
        `storage cannot do: ${n} segment(s) of the rotated realm(s); rotate under Node or with the CLI (pagedb rekey)`);
  }
  const step = (): ReturnType<typeof run> => run(h, a.full, d, 'rotate', (f, db, p) => f(db, a.realm, a.pagesPerStep, p));
  let r: Awaited<ReturnType<typeof run>>;
  for (let tries = 0; ; tries++)
    try {
      r = await step();
      break;
    } catch (e) {
      // OPFS (FORMAT.md §13.3 "OPFS") creates and moves files only asynchronously; a step
      // that needed either failed before it committed anything. The copy of a segment
      // (seg-<id>.pdn) could not be created: create it (settle) and run the step again.
      // The step stopped at switching a segment to its re-sealed copy, whose rename the
      // backend recorded: close the database, move the file, open it again; the next step
      // goes on as after a crash just after the rename. Not idle: the renames are dropped,
      // and the next call copies the segment again.
      const b = h['m'].pagedbVfs, mv = b?.takeRenames?.() ?? [], created = b?.takeDeferredCreate?.() ?? false;
      if ((!mv.length && !created) || tries >= 8) throw e; // each segment: a create, then a move
      if (created) await h['settle']();
      if (!mv.length) continue;
      idle(h, d, 'data key rotation closes the database to move a re-sealed segment file (OPFS)');
      await reopen(h, h['m'], d, () => b!.applyRenames!(mv).catch((x: unknown) => {
        throw new d.PagedbError(d.ErrorCode.EIO, `moving ${mv[0][0]} over ${mv[0][1]} (OPFS): ${String(x)}`);
      }));
    }
  r.progress.targetPages = 0;
  return r;
}

/**
 * The compactStep op (Handler.runBatch): switch to the full module first if the handler
 * still runs the first-load one (toFull), then run one step of online compaction
 * (pagedb.h pagedb_compact, docs/FORMAT.md §12): pdbjs_compact_step moves up to
 * `a.pagesPerStep` live pages (0 = 256) from the end of main.pdb into free pages nearer
 * the start, in one write transaction that also stores where the compaction stands, or
 * runs one of the later phases (the last truncates the file). Call until `done`; stopping
 * between calls is a clean cancel (the next call, by this or a later handle, resumes).
 * Readers' snapshots (any read transaction open now) keep their pages: the shrink is then
 * partial. progress.bytesWritten and progress.steps count this step only.
 * Throws PagedbError: those of toFull; EBUSY (a write transaction of the handle is open:
 * the step would wait for it), EMISUSE (read-only or closed), EINVAL (pagesPerStep not in
 * 0..2^31-1), EIO/EFULL/ENOMEM (the step was rolled back; earlier steps stay),
 * EAUTH/ECORRUPT (a damaged page or maintenance record).
 */
export async function compactStep(h: Handler, a: OpArgs['compactStep'], d: Deps): Promise<OpResults['compactStep']> {
  checkPages('compactStep', a.pagesPerStep, d);
  return run(h, a.full, d, 'compact', (f, db, p) => f(db, a.pagesPerStep, p));
}
