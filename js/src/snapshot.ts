/**
 * snapshot.ts — the read-only path of a service worker when no tab has the database open
 * (tabs.ts): the database's files are read with the asynchronous OPFS API
 * (`FileSystemFileHandle.getFile()`, the only file access a service worker has) into
 * memory, and the engine runs in the service worker's own thread on that copy, opened
 * read-only (`readOnly`: nothing is ever written). The copy is one committed state of the
 * database (nobody writes while no tab has it open; a file being written meanwhile
 * cannot be read: getFile() fails while a sync access handle is open, and tabs.ts then
 * waits for that tab). Before each read transaction the copy is refreshed when main.pdb
 * changed on disk (size or modification time), so a read sees the last commit made by a
 * tab that has since closed. Writes are refused with ENOTSUP.
 *
 * Why a copy and not page-by-page reads: the engine's VFS is synchronous and a service
 * worker cannot block on the asynchronous OPFS API without SharedArrayBuffer (COOP/COEP)
 * or a second, Asyncify-instrumented wasm build (about twice the size and slower on every
 * call). Reading the whole files costs memory equal to their size and one read per
 * refresh: fine for the offline data of a web app (a few MiB), not for very large
 * databases — those need a tab open (delegation, tabs.ts).
 *
 * Loaded only by the service-worker entry (service_worker.ts), so page bundles do not
 * carry a second copy of the Emscripten glue. The wasm module is taken from Cache Storage
 * when the service worker cached it (it must, to start offline), else fetched.
 */
import { Coalescer } from './batch.js';
import { vfsError, type Backend } from './backend.js';
import { testModeHook } from './engine.js';
import { PagedbError, ErrorCode } from './errors.js';
import { Handler } from './handler.js';
import createModule from './pagedb.browser.mjs';
import type { Endpoint, Op, OpArgs, OpResults } from './protocol.js';
import type { OpenOptions } from './types.js';

/** A read-only Backend over files held in memory (path 'DIR/NAME' -> bytes). */
export class MemoryBackend implements Backend {
  private byId = new Map<number, Uint8Array>();
  private next = 1;

  constructor(private files: Map<string, Uint8Array>) {}

  open(path: string, flags: number): number {
    const f = this.files.get(path);
    if (!f) throw vfsError(ErrorCode.ENOTFOUND, `no such file in the snapshot: ${path}`);
    if (flags & 1 && !f) throw vfsError(ErrorCode.EMISUSE, 'read-only snapshot');
    const id = this.next++;
    this.byId.set(id, f);
    return id;
  }

  close(h: number): void {
    this.byId.delete(h);
  }

  private f(h: number): Uint8Array {
    const f = this.byId.get(h);
    if (!f) throw vfsError(ErrorCode.EMISUSE, `bad file handle ${h}`);
    return f;
  }

  read(h: number, buf: Uint8Array, off: number): number {
    const f = this.f(h);
    if (off >= f.length) return 0;
    const n = Math.min(buf.length, f.length - off);
    buf.set(f.subarray(off, off + n));
    return n;
  }

  write(): number {
    throw vfsError(ErrorCode.EMISUSE, 'the service worker reads a read-only snapshot');
  }

  sync(): void {
    /* nothing written */
  }

  size(h: number): number {
    return this.f(h).length;
  }

  truncate(): void {
    throw vfsError(ErrorCode.EMISUSE, 'the service worker reads a read-only snapshot');
  }

  lock(): number {
    return 0;
  }

  remove(): void {
    throw vfsError(ErrorCode.EMISUSE, 'the service worker reads a read-only snapshot');
  }

  list(dir: string): string[] {
    const pre = `${dir}/`;
    return [...this.files.keys()].filter((p) => p.startsWith(pre)).map((p) => p.slice(pre.length));
  }

  mkdir(): void {
    /* nothing to make */
  }

  random(buf: Uint8Array): void {
    for (let i = 0; i < buf.length; i += 65536) crypto.getRandomValues(buf.subarray(i, Math.min(buf.length, i + 65536)) as Uint8Array<ArrayBuffer>);
  }
}

/** Ops a snapshot refuses (writes). */
const WRITES = new Set<Op>(['writeBatch', 'segCreate', 'segDelete', 'commit']);

/** What identifies the on-disk state of main.pdb (size and modification time). */
async function stampOf(dir: FileSystemDirectoryHandle): Promise<string> {
  const f = await (await dir.getFileHandle('main.pdb')).getFile();
  return `${f.size}:${f.lastModified}`;
}

/** The directory of database `name`; PagedbError ENOTFOUND when absent. */
async function dirOf(name: string): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  try {
    const d = await root.getDirectoryHandle(name);
    await d.getFileHandle('main.pdb');
    return d;
  } catch (e) {
    if ((e as DOMException)?.name === 'NotFoundError') throw new PagedbError(ErrorCode.ENOTFOUND, `no database "${name}" in this origin's OPFS`);
    throw e;
  }
}

/**
 * Read every file of `dir` into memory. Throws PagedbError EBUSY when a file is held by a
 * tab's sync access handle (getFile() fails then: a tab owns the database).
 */
async function readFiles(name: string, dir: FileSystemDirectoryHandle): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  try {
    for await (const [n, h] of dir as unknown as AsyncIterable<[string, FileSystemHandle]>) {
      if (h.kind !== 'file') continue;
      files.set(`${name}/${n}`, new Uint8Array(await (await (h as FileSystemFileHandle).getFile()).arrayBuffer()));
    }
  } catch (e) {
    const n = (e as DOMException)?.name;
    if (n === 'NoModificationAllowedError' || n === 'InvalidStateError' || n === 'NotReadableError')
      throw new PagedbError(ErrorCode.EBUSY, `database "${name}" is open in a tab`);
    throw e;
  }
  return files;
}

let wasm: Promise<Uint8Array> | undefined;

/** pagedb.wasm from Cache Storage (where the service worker put it) or the network. */
function wasmBinary(): Promise<Uint8Array> {
  wasm ??= (async () => {
    const url = new URL('./pagedb.wasm', import.meta.url).href;
    const cached = typeof caches !== 'undefined' ? await caches.match(url) : undefined;
    const r = cached ?? (await fetch(url));
    if (!r.ok) throw new PagedbError(ErrorCode.EIO, `cannot load ${url}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  })().catch((e) => {
    wasm = undefined;
    throw e instanceof PagedbError ? e : new PagedbError(ErrorCode.EIO, `cannot load pagedb.wasm: ${String(e)}`);
  });
  return wasm;
}

/** An engine on one in-memory copy of the files. */
interface Copy {
  ep: Coalescer;
  stamp: string;
  open: number; // read transactions begun and not ended
}

/**
 * The Endpoint of a service worker's Database while no tab has the database open: reads
 * on an in-memory, read-only copy of its files (see the file header). Writes reject with
 * ENOTSUP. A read transaction keeps the copy it began on; a new one begins on a fresh copy
 * if main.pdb changed. Thread-safety: the service worker's event loop.
 */
export class SnapshotEndpoint implements Endpoint {
  private copy: Copy | undefined;
  private loading: Promise<Copy> | undefined;
  private closed = false;

  private constructor(private name: string, private options: OpenOptions, private dir: FileSystemDirectoryHandle) {}

  /**
   * Open a snapshot of `name`. Rejects with PagedbError: ENOTFOUND (no such database),
   * EBUSY (a tab holds its files: use the tab), EKEY (wrong key), the engine's open errors,
   * EIO (pagedb.wasm could not be loaded).
   */
  static async open(name: string, options: OpenOptions): Promise<SnapshotEndpoint> {
    const s = new SnapshotEndpoint(name, { ...options, readOnly: true, create: false }, await dirOf(name));
    await s.fresh();
    return s;
  }

  /** The current copy, reloaded first when main.pdb changed on disk. */
  private async fresh(): Promise<Copy> {
    const stamp = await stampOf(this.dir);
    if (this.copy && this.copy.stamp === stamp) return this.copy;
    this.loading ??= this.load(stamp).finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(stamp: string): Promise<Copy> {
    const files = await readFiles(this.name, this.dir);
    const m = await createModule({ wasmBinary: await wasmBinary(), preRun: [testModeHook(this.options)] });
    m.pagedbVfs = new MemoryBackend(files);
    const h = new Handler(m);
    let chain: Promise<void> = Promise.resolve();
    const ep: Coalescer = new Coalescer((msg) => {
      chain = chain.then(() => h.runBatch(msg, (r) => ep.receive(r.msg)));
    });
    await ep.call('open', { name: this.name, options: this.options });
    const old = this.copy;
    const c: Copy = { ep, stamp, open: 0 };
    this.copy = c;
    if (old && old.open === 0) old.ep.call('close', {}).catch(() => undefined);
    return c;
  }

  call<K extends Op>(op: K, args: OpArgs[K]): Promise<OpResults[K]> {
    if (this.closed) return Promise.reject(new PagedbError(ErrorCode.EMISUSE, 'database is closed'));
    const a = args as { txn?: number; write?: boolean; append?: boolean };
    if (WRITES.has(op) || (op === 'begin' && a.write) || (op === 'segOpen' && a.append))
      return Promise.reject(new PagedbError(ErrorCode.ENOTSUP,
        `no tab has database "${this.name}" open: a service worker reads a read-only snapshot then, and cannot write`));
    if (op === 'close') {
      this.closed = true;
      const c = this.copy;
      this.copy = undefined;
      return (c ? c.ep.call('close', {}).catch(() => null) : Promise.resolve(null)) as Promise<OpResults[K]>;
    }
    if (a.txn && op !== 'begin') {
      const t = this.txns.get(a.txn);
      if (!t) return Promise.reject(new PagedbError(ErrorCode.EMISUSE, `transaction ${a.txn} has ended`));
      if (op === 'abort') this.txns.delete(a.txn);
      return t.then((c) => {
        const p = c.ep.call(op, args);
        if (op === 'abort' && --c.open === 0 && c !== this.copy) c.ep.call('close', {}).catch(() => undefined);
        return p;
      });
    }
    // a new transaction, or a read outside one, on the freshest copy; a begin is registered
    // at once, so the reads that follow it in the same tick run on its copy, after it
    const ready = this.fresh();
    if (op === 'begin') {
      const t = ready.then((c) => {
        c.open++;
        return c;
      });
      this.txns.set(a.txn!, t);
      return t.then((c) => c.ep.call(op, args));
    }
    return ready.then((c) => c.ep.call(op, args));
  }

  private txns = new Map<number, Promise<Copy>>(); // read transaction -> its copy
}
