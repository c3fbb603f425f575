/**
 * snapshot_import.ts — importSnapshot on OPFS, run in a dedicated worker (the only place
 * with synchronous OPFS access handles; snapshot_import_worker.ts is that worker). The
 * engine's import (pagedb_snapshot_import, docs/FORMAT.md §14.4) is synchronous and ends
 * by renaming its `*.restore` temporaries into place; OPFS can create files and move them
 * only asynchronously. So the import runs in three phases around one synchronous call:
 *
 *  1. Before. Hold the database's owner Web Lock (`pagedb:<name>:owner`, tabs.ts) for the
 *     whole import, taken only if free (EBUSY otherwise: a tab has the database open or is
 *     opening it; tabs that open it meanwhile wait for the lock and then find the result).
 *     Delete `*.restore` files an interrupted import left, take access handles on the
 *     database's files (OpfsBackend.prepare: EBUSY while another context holds one), then
 *     spool the stream, as it arrives, into `<name>/stream.restore` while scanning its
 *     record framing for the segment ids it carries (scanSegments; nothing is trusted: the
 *     engine authenticates every byte later), and create `main.pdb.restore` and one
 *     `seg-<id>.pds.restore` per segment record, each with an access handle.
 *  2. The engine's import (importSpooled) reads the spool and writes, checks and syncs the
 *     temporaries exactly as natively (§14.4 steps 1-4). Its VFS renames (steps 5-6) are
 *     recorded by ImportBackend.rename, not done. Files the engine asks to create that
 *     phase 1 did not (the scan is only a guess) are refused (ENOTSUP) and created, and
 *     the engine's import is run again from the spool; this cannot repeat for the same
 *     file. list() hides the import's own files from the engine (its clean-up of leftovers
 *     would delete them).
 *  3. After the call succeeded: every access handle is closed (FileSystemHandle.move
 *     refuses a locked source or destination: NoModificationAllowedError), then the
 *     recorded renames are performed with move() in the engine's order — segments, then
 *     main.pdb last (the commit point) — each replacing its destination (Chromium: one
 *     directory-database write, atomic); then the spool and unused temporaries are deleted
 *     and the result is re-checked: opened read-only, it must be at the stream's target
 *     txn. The crash states are those of §14.4 (a crash between two moves is a crash in
 *     step 5); "OPFS import" in §14.4 lists them.
 *
 * Any error before phase 3 leaves the directory as it was: the temporaries and the spool
 * are deleted, and a directory the import created is removed again.
 */
import type { Backend } from './backend.js';
import { vfsError } from './backend.js';
import { SyncDatabase } from './engine.js';
import { PagedbError, ErrorCode } from './errors.js';
import { toWire } from './handler.js';
import { loadModule } from './module_browser.js';
import { OpfsBackend } from './opfs_backend.js';
import { importSpooled, type SnapshotProgress } from './snapshot_engine.js';
import type { OpenOptions } from './types.js';

/** The spool file's name inside the database directory (a `*.restore` name: §14.4 deletes leftovers). */
export const SPOOL = 'stream.restore';

/** What the worker needs besides the stream. */
export interface ImportJob {
  name: string;
  /** Checked open options (validate.ts openOptions): key or passphrase, Argon2id bounds. */
  options: OpenOptions;
  /** TEST ONLY: stop (EIO) after this many renames of phase 3, like a crash there. */
  testStopAfterRenames?: number;
}

/**
 * The segment ids a snapshot stream's framing names (FORMAT.md §14.1-14.2), scanned as the
 * bytes pass: records are type ‖ body ‖ tag, lengths fixed by the type and the header's page
 * size. Unauthenticated: a damaged stream may give wrong ids (bounded by MAX_SEGMENTS),
 * which only costs an unused temporary file; the engine rejects the stream.
 */
export class SegmentScan {
  /** Segment ids found so far, as the 16 lowercase hex digits of their file names. */
  readonly ids = new Set<string>();
  private pos = 0; // stream bytes seen
  private next = 8; // start of the next record (after the 8-byte magic)
  private head: number[] = []; // its first bytes, collected up to HEAD
  private P = 0;
  private stopped = false;

  /** Scan the next chunk of the stream. */
  feed(c: Uint8Array): void {
    const end = this.pos + c.length;
    while (!this.stopped && this.next < end) {
      for (let i = Math.max(this.next + this.head.length, this.pos); i < end && this.head.length < HEAD; i++) this.head.push(c[i - this.pos]);
      if (this.head.length < HEAD) break;
      const h = this.head, P = this.P;
      let len = 0;
      if (h[0] === 1 && this.next === 8) {
        this.P = h[5] | (h[6] << 8) | (h[7] << 16) | (h[8] << 24);
        if (this.P < 4096 || this.P > 65536 || this.P & (this.P - 1)) this.stopped = true;
        len = 1 + 568 + 16;
      } else if (P && h[0] === 2) len = 1 + 8 + P + 16;
      else if (P && h[0] === 3) {
        let id = '';
        for (let i = 8; i >= 1; i--) id += h[i].toString(16).padStart(2, '0');
        this.ids.add(id);
        if (this.ids.size >= MAX_SEGMENTS) this.stopped = true;
        len = 1 + 24 + 16;
      } else if (P && h[0] === 4) len = 1 + 16 + P + 16;
      else this.stopped = true; // the trailer (nothing follows but the digest) or damage
      this.next += len;
      this.head = [];
    }
    this.pos = end;
  }
}
const RUN_BYTES = 1 << 20;
const HEAD = 9; // type and the first 8 body bytes: the page size (header) or the segment id
const MAX_SEGMENTS = 100_000;

/**
 * The OPFS backend during an import: forwards to `inner`, hides the import's own files
 * (`hidden`) from list(), and records rename() for phase 3 instead of doing it.
 */
class ImportBackend implements Backend {
  readonly hidden = new Set<string>();
  readonly renames: [string, string][] = [];
  /** Paths whose create open() refused since the last take (the engine wanted them). */
  refused: string[] = [];

  constructor(readonly inner: OpfsBackend) {}

  /** Create `paths` (with access handles) through the backend's deferred create. */
  async create(paths: Iterable<string>): Promise<void> {
    for (const p of paths) {
      this.hidden.add(p);
      try {
        this.inner.close(this.inner.open(p, 1));
      } catch {
        /* ENOTSUP: recorded for settle() */
      }
    }
    this.inner.takeDeferredCreate();
    await this.inner.settle();
  }

  open(path: string, flags: number): number {
    let h: number;
    try {
      h = this.inner.open(path, flags);
    } catch (e) {
      if ((e as { pagedbCode?: number }).pagedbCode === ErrorCode.ENOTSUP) this.refused.push(path);
      throw e;
    }
    if (this.hidden.has(path)) this.own.add(h);
    return h;
  }
  close(h: number): void {
    try {
      this.flush(h);
    } finally {
      this.own.delete(h);
      this.inner.close(h);
    }
  }
  read(h: number, buf: Uint8Array, off: number): number { this.flush(h); return this.inner.read(h, buf, off); }
  sync(h: number): void { this.flush(h); this.inner.sync(h); }
  size(h: number): number { this.flush(h); return this.inner.size(h); }
  truncate(h: number, size: number): void { this.flush(h); this.inner.truncate(h, size); }

  /**
   * Writes to the import's own files are gathered while they are contiguous, up to
   * RUN_BYTES, and written as one call: an OPFS access handle costs about 1 ms per write
   * call in Chromium here, whatever its size up to 64 KiB, and the engine writes one page
   * per call. Written before any other call on the handle (read, size, truncate, sync,
   * close), so the engine sees the same file; a short write throws EFULL then.
   */
  write(h: number, buf: Uint8Array, off: number): number {
    if (!this.own.has(h)) return this.inner.write(h, buf, off);
    const r = this.runs.get(h);
    if (r && off === r.off + r.len && r.len + buf.length <= RUN_BYTES) {
      r.parts.push(buf.slice());
      r.len += buf.length;
      return buf.length;
    }
    this.flush(h);
    this.runs.set(h, { off, len: buf.length, parts: [buf.slice()] });
    return buf.length;
  }

  private own = new Set<number>(); // handles of the import's own files
  private runs = new Map<number, { off: number; len: number; parts: Uint8Array[] }>();

  private flush(h: number): void {
    const r = this.runs.get(h);
    if (!r) return;
    this.runs.delete(h);
    const all = r.parts.length === 1 ? r.parts[0] : new Uint8Array(r.len);
    if (r.parts.length > 1) for (let i = 0, at = 0; i < r.parts.length; at += r.parts[i++].length) all.set(r.parts[i], at);
    if (this.inner.write(h, all, r.off) !== r.len) throw vfsError(ErrorCode.EFULL, `short write at byte ${r.off} (storage full?)`);
  }
  lock(h: number, mode: number): number { return this.inner.lock(h, mode); }
  remove(path: string): void { this.inner.remove(path); }
  mkdir(dir: string): void { this.inner.mkdir(dir); }
  random(buf: Uint8Array): void { this.inner.random(buf); }
  settle(forSegmentCreate?: boolean): Promise<void> { return this.inner.settle(forSegmentCreate); }
  takeDeferredCreate(): boolean { return this.inner.takeDeferredCreate(); }
  releaseAll(): void { this.inner.releaseAll(); }

  list(dir: string): string[] {
    return this.inner.list(dir).filter((n) => !this.hidden.has(`${dir}/${n}`));
  }

  /** Record the rename (phase 3 performs it). ENOTFOUND when `from` does not exist. */
  rename(from: string, to: string): void {
    const slash = from.lastIndexOf('/');
    if (!this.inner.list(from.slice(0, slash)).includes(from.slice(slash + 1))) throw vfsError(ErrorCode.ENOTFOUND, `no such file in OPFS: ${from}`);
    this.renames.push([from, to]);
  }
}

const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

function opfsError(e: unknown, what: string): PagedbError {
  if (e instanceof PagedbError) return e;
  const n = (e as DOMException)?.name;
  if (n === 'NoModificationAllowedError' || n === 'InvalidModificationError') return new PagedbError(ErrorCode.EBUSY, `${what}: a file is held by another tab or worker`);
  if (n === 'QuotaExceededError') return new PagedbError(ErrorCode.EFULL, `${what}: storage quota exceeded`);
  const w = toWire(e);
  return new PagedbError(w.code, `${what}: ${w.message}`);
}

/** Delete every `*.restore` file of `dir` (leftovers, or this import's). Never rejects. */
async function dropRestoreFiles(dir: FileSystemDirectoryHandle): Promise<void> {
  const names: string[] = [];
  try {
    for await (const [n, h] of dir as unknown as AsyncIterable<[string, FileSystemHandle]>) if (h.kind === 'file' && n.endsWith('.restore')) names.push(n);
  } catch {
    return;
  }
  for (const n of names) await dir.removeEntry(n).catch(() => undefined);
}

/**
 * Import the stream `chunks` into the OPFS database `job.name` (see the file header), in a
 * dedicated worker. `onBytes(n)` is called after each chunk is spooled (n = bytes so far).
 * Resolves with the engine's final progress. Rejects with PagedbError: EBUSY (the database
 * is open or being opened in a tab or worker, or another import runs), ECANCELED (the
 * chunks' iterator threw it), the codes of importSpooled (ECORRUPT/EAUTH with the byte
 * position, EKEY, EVERSION, EEXIST, ENOTFOUND, ECONFLICT, ENOMEM), EFULL (quota), EIO
 * (OPFS failures; a failure between the renames of phase 3 says how many were done: run
 * the import again to complete it).
 */
export async function importIntoOpfs(job: ImportJob, chunks: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): Promise<SnapshotProgress> {
  const { name } = job;
  const locked = await navigator.locks.request(`pagedb:${name}:owner`, { ifAvailable: true }, async (lock) => {
    if (!lock) return undefined;
    return { p: await underLock(job, chunks, onBytes) };
  });
  if (!locked) throw new PagedbError(ErrorCode.EBUSY, `database "${name}" is open (or being opened) in a tab or worker: close it to import into it`);
  return locked.p;
}

async function underLock(job: ImportJob, chunks: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): Promise<SnapshotProgress> {
  const { name, options } = job;
  const root = await navigator.storage.getDirectory();
  let dir: FileSystemDirectoryHandle, createdDir = false;
  try {
    dir = await root.getDirectoryHandle(name);
  } catch (e) {
    if ((e as DOMException)?.name !== 'NotFoundError') throw opfsError(e, `opening OPFS directory "${name}"`);
    dir = await root.getDirectoryHandle(name, { create: true });
    createdDir = true;
  }
  await dropRestoreFiles(dir);
  let inner: OpfsBackend;
  try {
    inner = await OpfsBackend.prepare(name, false);
  } catch (e) {
    if (createdDir) await root.removeEntry(name).catch(() => undefined);
    throw opfsError(e, `opening database "${name}"`);
  }
  const b = new ImportBackend(inner);
  const spool = `${name}/${SPOOL}`;
  let progress: SnapshotProgress;
  try {
    await b.create([spool]);
    const scan = new SegmentScan();
    const h = b.open(spool, 0);
    let off = 0;
    try {
      for await (const c of chunks) {
        scan.feed(c);
        if (b.write(h, c, off) !== c.length) throw new PagedbError(ErrorCode.EFULL, 'short write while spooling the stream (storage full?)');
        off += c.length;
        onBytes(off);
      }
      b.sync(h);
    } finally {
      b.close(h);
    }
    const temps = [`${name}/main.pdb.restore`, ...[...scan.ids].map((id) => `${name}/seg-${id}.pds.restore`)];
    const m = await loadModule(options);
    m.pagedbVfs = b;
    for (;;) {
      await b.create(temps);
      b.renames.length = 0;
      try {
        progress = importSpooled(m, name, spool, options);
        break;
      } catch (e) {
        // a create the scan did not foresee: the engine's open refused it (ENOTSUP); make
        // it and run the import again (each retry gets past one more file)
        const more = b.refused.filter((p) => !temps.includes(p));
        b.refused = [];
        if (!b.takeDeferredCreate() || !more.length) throw e;
        temps.push(...more);
        await b.settle(); // deletes what the failed run removed; the loop creates again
      }
    }
    await b.settle(); // files the engine removed (unlinked segments at open)
  } catch (e) {
    b.releaseAll();
    await dropRestoreFiles(dir);
    if (createdDir) await root.removeEntry(name).catch(() => undefined); // only when empty
    throw opfsError(e, 'snapshot import');
  }
  // phase 3: the recorded renames, in the engine's order (main.pdb last: the commit point)
  b.releaseAll();
  let done = 0;
  try {
    for (const [from, to] of b.renames) {
      if (job.testStopAfterRenames !== undefined && done >= job.testStopAfterRenames) throw new Error('TEST ONLY: stopped between renames');
      const fh = await dir.getFileHandle(base(from));
      await (fh as unknown as { move(name: string): Promise<void> }).move(base(to));
      done++;
    }
  } catch (e) {
    const w = opfsError(e, 'renaming');
    throw new PagedbError(w.code === ErrorCode.EBUSY ? ErrorCode.EBUSY : ErrorCode.EIO,
      `snapshot import interrupted after ${done} of ${b.renames.length} renames (${w.message}): the database is as before the import or at its ` +
      'target once the last rename is done; run the same import again to complete it (FORMAT.md §14.4)');
  }
  await dropRestoreFiles(dir);
  // re-check: the directory opens at the stream's target txn
  const check = await OpfsBackend.prepare(name, false).catch((e) => { throw opfsError(e, 'reopening the restored database'); });
  try {
    const m = await loadModule(options);
    m.pagedbVfs = check;
    const db = SyncDatabase.open(m, name, { ...options, readOnly: true, create: false });
    const txn = db.stat().txnId;
    db.close();
    if (txn !== progress.targetTxn)
      throw new PagedbError(ErrorCode.ECORRUPT, `the restored database "${name}" is at txn ${txn}, the stream's target is ${progress.targetTxn}`);
  } finally {
    check.releaseAll();
  }
  return progress;
}
