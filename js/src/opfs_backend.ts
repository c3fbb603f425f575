/**
 * opfs_backend.ts — the Backend on the Origin Private File System, for a dedicated Web
 * Worker. FileSystemSyncAccessHandle's read/write/flush/getSize/truncate are synchronous,
 * but creating a handle is not: `prepare()` opens (and creates) the database's files
 * before the engine runs, one handle per file, kept until the database closes (a VFS
 * close() only forgets the VFS handle: the access handle stays, so the file can be opened
 * again synchronously, e.g. a segment closed and reopened). A sync access handle is
 * exclusive, so a second tab opening the same database fails in prepare() with EBUSY.
 *
 * Files created or removed while the database is open (segment files, "seg-<16 hex>.pds")
 * need asynchronous OPFS calls, while the engine's VFS is synchronous:
 *
 *  - Creating. open() of an absent path with the create flag throws an Error with
 *    pagedbCode ErrorCode.ENOTSUP and remembers that a create was refused
 *    (takeDeferredCreate()). For an ordinary path it records the path; settle() creates
 *    the file and its access handle, and the caller retries the operation. For a segment
 *    path the retry would not open the same path: pagedb_segment_create takes a fresh id
 *    from the database's counter on every call (the failed attempt's id N is consumed,
 *    harmlessly: no file, no record, and ids are only ever increased — FORMAT.md §9.7),
 *    so the retry opens seg-(N+1). The backend therefore remembers, on every open of a
 *    segment path with the create flag (refused or not), the path of the next id, and
 *    settle(true) creates that file before a segment create. In this single-threaded
 *    module nothing else takes an id in between, so after the first segment create of a
 *    session (which costs one refused attempt and one skipped id) every create finds its
 *    file ready. SyncDatabase.createSegmentAsync runs this protocol. A prepared file that
 *    ends up unused is an empty unlinked segment file, which the engine deletes at the next
 *    read-write open (FORMAT.md §9.6, recovery step 1).
 *  - Removing. remove() closes the file's access handle, forgets the file (list() and
 *    open() no longer see it) and marks it; settle() calls removeEntry. The worker
 *    settles after every operation, before answering it. If the page goes away first, the
 *    leftover file has no catalog record and the engine deletes it at the next read-write
 *    open (FORMAT.md §9.6 recovery step 1), as after a crash between an unlinking commit
 *    and the deletion.
 */
import { vfsError, type Backend } from './backend.js';
import { ErrorCode } from './errors.js';

interface SyncHandle {
  read(buf: Uint8Array, opts: { at: number }): number;
  write(buf: Uint8Array, opts: { at: number }): number;
  flush(): void;
  getSize(): number;
  truncate(size: number): void;
  close(): void;
}

/** A segment file name: the engine's "seg-<16 lowercase hex>.pds" (FORMAT.md §1). */
const SEG_NAME = /^seg-([0-9a-f]{16})\.pds$/;

export class OpfsBackend implements Backend {
  private handles = new Map<string, SyncHandle>(); // path -> open handle
  private byId = new Map<number, string>();
  private next = 1;
  private toCreate = new Set<string>(); // paths open() refused to create (not segment files)
  private toRemove = new Set<string>(); // paths remove() forgot; removeEntry pending
  private nextSegment: string | undefined; // path the next segment create will open
  private renames: [string, string][] = []; // rename() calls to perform in applyRenames
  private refused = false; // an open() refused to create a file since takeDeferredCreate()
  private createdDir = false; // prepare() created the database directory
  private createdMain = false; // prepare() created main.pdb

  private constructor(private root: FileSystemDirectoryHandle, private dirName: string, private dir: FileSystemDirectoryHandle) {}

  /**
   * Open the OPFS directory `name` (created when `create`) and a sync access handle on
   * each of its files (main.pdb created when `create`). Throws an Error with pagedbCode
   * ErrorCode.EBUSY when another tab or worker holds the database, ENOTFOUND when it does
   * not exist and `create` is false, EINVAL for a name OPFS refuses. After a failed
   * open, call {@link discardFailedCreate} (not releaseAll) so a create is all or nothing.
   */
  static async prepare(name: string, create: boolean): Promise<OpfsBackend> {
    const root = await navigator.storage.getDirectory();
    let dir: FileSystemDirectoryHandle, createdDir = false;
    try {
      dir = await root.getDirectoryHandle(name);
    } catch (e) {
      const n = (e as DOMException)?.name;
      if (n === 'TypeError' || e instanceof TypeError) throw vfsError(ErrorCode.EINVAL, `invalid database name "${name}" (${(e as Error).message})`);
      if (n !== 'NotFoundError') throw e;
      if (!create) throw vfsError(ErrorCode.ENOTFOUND, `no database "${name}" in this origin's OPFS`);
      dir = await root.getDirectoryHandle(name, { create: true });
      createdDir = true;
    }
    const b = new OpfsBackend(root, name, dir);
    b.createdDir = createdDir;
    const names: string[] = [];
    for await (const [n, h] of (dir as unknown as AsyncIterable<[string, FileSystemHandle]>)) if (h.kind === 'file') names.push(n);
    if (!names.includes('main.pdb') && create) {
      names.push('main.pdb');
      b.createdMain = true;
    }
    try {
      for (const n of names) {
        const fh = await dir.getFileHandle(n, { create: true });
        b.handles.set(`${name}/${n}`, await OpfsBackend.syncHandle(fh));
      }
    } catch (e) {
      await b.discardFailedCreate();
      const err = e as DOMException;
      if (err && err.name === 'NoModificationAllowedError')
        throw vfsError(ErrorCode.EBUSY, `database "${name}" is open in another tab or worker (OPFS access handles are exclusive)`);
      throw e;
    }
    return b;
  }

  /**
   * createSyncAccessHandle, retried for up to 3 s while another context still holds
   * the file: a worker terminated by a reload releases its handles asynchronously.
   */
  private static async syncHandle(fh: FileSystemFileHandle): Promise<SyncHandle> {
    const create = (fh as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }).createSyncAccessHandle.bind(fh);
    for (let waited = 0; ; waited += 50) {
      try {
        return await create();
      } catch (e) {
        if ((e as DOMException)?.name !== 'NoModificationAllowedError' || waited >= 3000) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** True when settle() has work to do (files to remove or to create). */
  get deferred(): boolean {
    return this.toRemove.size > 0 || this.toCreate.size > 0;
  }

  /**
   * Complete the deferred work (see the file header): removeEntry for every file remove()
   * marked, then create (with an access handle) every file open() refused and, when
   * `forSegmentCreate`, the file of the next segment id. Removal failures are ignored (the
   * engine deletes leftovers at the next open); creation failures reject (NotFoundError,
   * QuotaExceededError...), mapped to pagedb codes by the caller.
   */
  async settle(forSegmentCreate = false): Promise<void> {
    for (const p of [...this.toRemove]) {
      this.toRemove.delete(p);
      try {
        await this.dir.removeEntry(this.nameOf(p));
      } catch {
        /* already gone, or held elsewhere: the engine removes it at the next open */
      }
    }
    const want = [...this.toCreate];
    this.toCreate.clear();
    if (forSegmentCreate && this.nextSegment !== undefined) want.push(this.nextSegment);
    for (const p of want) {
      if (this.handles.has(p)) continue;
      const fh = await this.dir.getFileHandle(this.nameOf(p), { create: true });
      this.handles.set(p, await OpfsBackend.syncHandle(fh));
    }
  }

  /** True when open() refused to create a file since the last call; resets the flag. */
  takeDeferredCreate(): boolean {
    const r = this.refused;
    this.refused = false;
    return r;
  }

  /** The file name of a path inside the database directory. */
  private nameOf(path: string): string {
    return path.slice(this.dirName.length + 1);
  }

  /**
   * After a failed open: close every access handle, then remove what prepare() created —
   * main.pdb if it is still empty, and the directory if it is then empty — so a failed
   * create leaves nothing behind. A file another tab or worker has opened meanwhile is
   * left alone (removeEntry refuses a file with an open access handle). Never rejects.
   */
  async discardFailedCreate(): Promise<void> {
    let empty = false;
    try {
      empty = this.handles.get(`${this.dirName}/main.pdb`)?.getSize() === 0;
    } catch {
      /* closed already: leave the file */
    }
    this.releaseAll();
    try {
      if (this.createdMain && empty) await this.dir.removeEntry('main.pdb');
      if (this.createdDir) await this.root.removeEntry(this.dirName); // not recursive: only when empty
    } catch {
      /* in use elsewhere, or not empty: not ours to remove */
    }
  }

  /** Close every access handle (on database close and on pagehide). */
  releaseAll(): void {
    for (const h of this.handles.values()) {
      try {
        h.close();
      } catch {
        /* already closed */
      }
    }
    this.handles.clear();
    this.byId.clear();
  }

  private h(id: number): SyncHandle {
    const p = this.byId.get(id);
    const h = p !== undefined ? this.handles.get(p) : undefined;
    if (!h) throw vfsError(ErrorCode.EMISUSE, `bad file handle ${id}`);
    return h;
  }

  open(path: string, flags: number): number {
    if (!path.startsWith(`${this.dirName}/`) || path.indexOf('/', this.dirName.length + 1) >= 0)
      throw vfsError(ErrorCode.EINVAL, `path outside the prepared database: ${path}`);
    const create = (flags & 1) !== 0;
    const seg = SEG_NAME.exec(this.nameOf(path));
    if (create && seg) {
      const next = (BigInt(`0x${seg[1]}`) + 1n).toString(16).padStart(16, '0');
      this.nextSegment = `${this.dirName}/seg-${next}.pds`;
    }
    if (!this.handles.has(path)) {
      if (!create) throw vfsError(ErrorCode.ENOTFOUND, `no such file in OPFS: ${path}`);
      if (!seg) this.toCreate.add(path);
      this.refused = true;
      throw vfsError(ErrorCode.ENOTSUP, `creating ${path} needs an asynchronous OPFS call: settle() and retry`);
    }
    const id = this.next++;
    this.byId.set(id, path);
    return id;
  }

  /**
   * Forget the VFS handle. The file's access handle stays open until releaseAll() or
   * remove(), so the engine can open the file again synchronously.
   */
  close(id: number): void {
    this.byId.delete(id);
  }

  read(id: number, buf: Uint8Array, off: number): number {
    return this.h(id).read(buf, { at: off });
  }

  write(id: number, buf: Uint8Array, off: number): number {
    return this.h(id).write(buf, { at: off });
  }

  sync(id: number): void {
    this.h(id).flush();
  }

  size(id: number): number {
    return this.h(id).getSize();
  }

  truncate(id: number, size: number): void {
    this.h(id).truncate(size);
  }

  lock(_id: number, _mode: number): number {
    return 0; // the sync access handle taken in prepare() is the (exclusive) lock
  }

  /**
   * Close the file's access handle and forget it at once (list() and open() no longer see
   * it); the OPFS entry is removed by the next settle(). ENOTFOUND for an unknown path.
   */
  remove(path: string): void {
    const h = this.handles.get(path);
    if (!h) throw vfsError(ErrorCode.ENOTFOUND, `no such file in OPFS: ${path}`);
    this.handles.delete(path); // VFS handles still open on it fail from now on (and close fine)
    try {
      h.close();
    } finally {
      this.toRemove.add(path);
    }
  }

  /**
   * OPFS moves files only asynchronously (FileSystemHandle.move()), so the engine's
   * synchronous rename (a data key rotation switching a segment to its re-sealed copy,
   * FORMAT.md §13.3 "OPFS") is recorded and refused with ENOTSUP; the rotation step then
   * fails as a crash before the rename would (nothing committed), and rotate_engine.ts
   * closes the database, applies the rename (applyRenames) and opens it again, which
   * resumes the rotation as after a crash after the rename. ENOTFOUND for an unknown `from`.
   */
  rename(from: string, to: string): void {
    if (!this.handles.has(from)) throw vfsError(ErrorCode.ENOTFOUND, `no such file in OPFS: ${from}`);
    this.renames.push([from, to]);
    throw vfsError(ErrorCode.ENOTSUP, `renaming ${from} needs an asynchronous OPFS move: the database is closed, the file moved, and it is opened again`);
  }

  takeRenames(): [string, string][] {
    return this.renames.splice(0);
  }

  async applyRenames(r: [string, string][]): Promise<void> {
    for (const [from, to] of r) {
      for (const p of [from, to]) {
        this.handles.get(p)?.close(); // move() refuses a file with an open access handle
        this.handles.delete(p);
      }
      try {
        const fh = await this.dir.getFileHandle(this.nameOf(from));
        await (fh as unknown as { move(d: FileSystemDirectoryHandle, n: string): Promise<void> }).move(this.dir, this.nameOf(to));
      } finally { // handles on what exists now (both names if the move failed)
        for (const p of [from, to])
          try {
            this.handles.set(p, await OpfsBackend.syncHandle(await this.dir.getFileHandle(this.nameOf(p))));
          } catch {
            /* the moved source: gone */
          }
      }
    }
  }

  list(dir: string): string[] {
    const pre = `${dir}/`;
    return [...this.handles.keys()].filter((p) => p.startsWith(pre)).map((p) => p.slice(pre.length));
  }

  mkdir(_dir: string): void {
    /* the directory was created by prepare() */
  }

  random(buf: Uint8Array): void {
    for (let i = 0; i < buf.length; i += 65536) crypto.getRandomValues(buf.subarray(i, Math.min(buf.length, i + 65536)) as Uint8Array<ArrayBuffer>);
  }
}
