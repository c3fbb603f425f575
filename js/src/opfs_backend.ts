/**
 * opfs_backend.ts — the Backend on the Origin Private File System, for a dedicated Web
 * Worker. FileSystemSyncAccessHandle's read/write/flush/getSize/truncate are synchronous,
 * but creating a handle is not: `prepare()` opens (and creates) the database's files
 * before the engine runs, one handle per file, kept until close. A sync access handle is
 * exclusive, so a second tab opening the same database fails in prepare() with EBUSY.
 */
import { vfsError, type Backend } from './backend.js';

interface SyncHandle {
  read(buf: Uint8Array, opts: { at: number }): number;
  write(buf: Uint8Array, opts: { at: number }): number;
  flush(): void;
  getSize(): number;
  truncate(size: number): void;
  close(): void;
}

export class OpfsBackend implements Backend {
  private handles = new Map<string, SyncHandle>(); // path -> open handle
  private byId = new Map<number, string>();
  private next = 1;

  private constructor(private dirName: string, private dir: FileSystemDirectoryHandle) {}

  /**
   * Open the OPFS directory `name` (created) and a sync access handle on each of its files
   * (main.pdb created when `create`). Throws an Error with pagedbCode 2 (EBUSY) when another
   * tab or worker holds the database.
   */
  static async prepare(name: string, create: boolean): Promise<OpfsBackend> {
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle(name, { create });
    const b = new OpfsBackend(name, dir);
    const names: string[] = [];
    for await (const [n, h] of (dir as unknown as AsyncIterable<[string, FileSystemHandle]>)) if (h.kind === 'file') names.push(n);
    if (!names.includes('main.pdb') && create) names.push('main.pdb');
    try {
      for (const n of names) {
        const fh = await dir.getFileHandle(n, { create: true });
        b.handles.set(`${name}/${n}`, await OpfsBackend.syncHandle(fh));
      }
    } catch (e) {
      b.releaseAll();
      const err = e as DOMException;
      if (err && err.name === 'NoModificationAllowedError')
        throw vfsError(2, `database "${name}" is open in another tab or worker (OPFS access handles are exclusive)`);
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
    if (!h) throw vfsError(8, `bad file handle ${id}`);
    return h;
  }

  open(path: string, _flags: number): number {
    if (!this.handles.has(path)) {
      if (path.startsWith(`${this.dirName}/`)) throw vfsError(1, `no such file in OPFS: ${path}`);
      throw vfsError(10, `path outside the prepared database: ${path}`);
    }
    const id = this.next++;
    this.byId.set(id, path);
    return id;
  }

  close(id: number): void {
    const p = this.byId.get(id);
    this.byId.delete(id);
    const h = p !== undefined ? this.handles.get(p) : undefined;
    if (h && p !== undefined) {
      h.flush();
      h.close();
      this.handles.delete(p);
    }
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

  remove(path: string): void {
    throw vfsError(17, `removing ${path} needs an asynchronous OPFS call (not yet supported)`);
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
