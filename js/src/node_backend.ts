/**
 * node_backend.ts — the Backend on node:fs (used by the package under Node and by the
 * Vitest suite). Positional reads/writes, fdatasync, ftruncate.
 *
 * Locking. Node's fs has no advisory locks, so lock() calls the `tryLock`/`unlock` of the
 * npm package fs-native-extensions (a prebuilt native addon). On Linux that is
 * fcntl(F_OFD_SETLK) over the whole file (offset 0, length 0) — F_RDLCK for SHARED,
 * F_WRLCK for EXCLUSIVE — exactly the lock of the native POSIX VFS
 * (platform/native/vfs_posix.c), so a Node process, another Node process and a native
 * `pagedb` process exclude each other: a second read-write opener gets EBUSY wherever it
 * runs. The lock belongs to the open file description: two opens in one process exclude
 * each other too, and the kernel drops it when the descriptor is closed or the process
 * dies (also by SIGKILL), so a crash never leaves a stale lock. A read-only opener takes
 * the shared lock, as natively: any number of read-only openers coexist; one is refused
 * (EBUSY) while a read-write handle is open, and a read-write opener is refused while one
 * is open. On macOS the package uses flock() (Node and Node exclude each other, a native
 * process using fcntl locks does not see it); on Windows LockFileEx.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { webcrypto } from 'node:crypto';
import { vfsError, type Backend } from './backend.js';
import { ErrorCode } from './errors.js';

/** The part of fs-native-extensions this backend uses. */
interface FileLocks {
  /** Whole-file lock when offset and length are 0; false when another holder conflicts. */
  tryLock(fd: number, offset: number, length: number, opts: { shared: boolean }): boolean;
  unlock(fd: number, offset: number, length: number): void;
}

let fileLocks: FileLocks | undefined;

/** fs-native-extensions, loaded on the first lock (ENOTSUP when the addon cannot load). */
function locks(): FileLocks {
  if (!fileLocks) {
    try {
      fileLocks = createRequire(import.meta.url)('fs-native-extensions') as FileLocks;
    } catch (e) {
      throw vfsError(ErrorCode.ENOTSUP, `file locks need the npm package fs-native-extensions, which did not load: ${(e as Error).message}`);
    }
  }
  return fileLocks;
}

/** True when f's path still names the file f's descriptor has open. */
function samePath(f: { fd: number; abs: string }): boolean {
  try {
    const a = fs.fstatSync(f.fd), b = fs.statSync(f.abs);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** What existed of database `name` under `base` before an open (see discardFailedCreate). */
export interface CreateProbe {
  dir: string;
  dirExisted: boolean;
  mainExisted: boolean;
}

/** Note whether the directory of database `name` and its main.pdb exist. */
export function probeCreate(base: string | undefined, name: string): CreateProbe {
  const dir = path.resolve(base ?? process.cwd(), name);
  return { dir, dirExisted: fs.existsSync(dir), mainExisted: fs.existsSync(path.join(dir, 'main.pdb')) };
}

/**
 * After an open that failed while creating (no main.pdb before it): remove the main.pdb
 * it left — only if it is still empty and no one holds its lock (taken here, exclusive,
 * while unlinking, so a concurrent opener that has it locked keeps it; one that opened
 * but had not locked it yet sees the unlink in NodeBackend.lock and gets EBUSY) — and
 * the database directory if the open created it and it is now empty. Creating is thus
 * all or nothing. Never throws (a leftover is reported by nothing and harms nothing: an
 * empty main.pdb is created over by the next read-write open).
 */
export function discardFailedCreate(p: CreateProbe): void {
  if (p.mainExisted) return;
  const main = path.join(p.dir, 'main.pdb');
  try {
    const fd = fs.openSync(main, 'r+');
    try {
      if (locks().tryLock(fd, 0, 0, { shared: false }) && fs.fstatSync(fd).size === 0) fs.unlinkSync(main);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* absent already, or not ours to remove */
  }
  if (!p.dirExisted) {
    try {
      fs.rmdirSync(p.dir); // only when empty
    } catch {
      /* not empty, or gone */
    }
  }
}

export class NodeBackend implements Backend {
  private files = new Map<number, { fd: number; abs: string; lock: number }>();
  private next = 1;

  /** base: directory that relative database paths are resolved against. */
  constructor(private base: string = process.cwd()) {}

  private abs(p: string): string {
    return path.resolve(this.base, p);
  }

  open(p: string, flags: number): number {
    const abs = this.abs(p);
    const ro = (flags & 2) !== 0;
    let fd: number;
    try {
      fd = fs.openSync(abs, ro ? 'r' : fs.existsSync(abs) || !(flags & 1) ? 'r+' : 'w+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw vfsError(ErrorCode.ENOTFOUND, `no such file: ${abs}`);
      throw e;
    }
    const h = this.next++;
    this.files.set(h, { fd, abs, lock: 0 });
    return h;
  }

  private f(h: number) {
    const f = this.files.get(h);
    if (!f) throw vfsError(ErrorCode.EMISUSE, `bad file handle ${h}`);
    return f;
  }

  /** Close the descriptor, which releases its lock (the kernel drops an OFD lock with it). */
  close(h: number): void {
    const f = this.f(h);
    this.files.delete(h);
    fs.closeSync(f.fd);
  }

  read(h: number, buf: Uint8Array, off: number): number {
    const fd = this.f(h).fd;
    let done = 0;
    while (done < buf.length) {
      const n = fs.readSync(fd, buf, done, buf.length - done, off + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  write(h: number, buf: Uint8Array, off: number): number {
    const fd = this.f(h).fd;
    let done = 0;
    while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, off + done);
    return done;
  }

  sync(h: number): void {
    fs.fdatasyncSync(this.f(h).fd);
  }

  size(h: number): number {
    return fs.fstatSync(this.f(h).fd).size;
  }

  truncate(h: number, size: number): void {
    fs.ftruncateSync(this.f(h).fd, size);
  }

  /**
   * Take (1 shared, 2 exclusive) or release (0) the whole-file lock of handle h; see the
   * file header. Returns 0, or -ErrorCode.EBUSY when another descriptor — in this process or
   * another — holds a conflicting lock. A failed upgrade or downgrade may lose the lock
   * held before (the engine only ever locks once after open and unlocks at close).
   * Throws (EIO via lib.js) for other lock errors, ENOTSUP when the addon cannot load.
   */
  lock(h: number, mode: number): number {
    const f = this.f(h);
    if (mode === f.lock) return 0;
    if (mode === 0) {
      locks().unlock(f.fd, 0, 0);
      f.lock = 0;
      return 0;
    }
    if (mode !== 1 && mode !== 2) throw vfsError(ErrorCode.EINVAL, `bad lock mode ${mode}`);
    if (!locks().tryLock(f.fd, 0, 0, { shared: mode === 1 })) return -ErrorCode.EBUSY;
    if (f.lock === 0 && !samePath(f)) {
      // the file was removed or replaced between our open and our lock (a failed create
      // of another opener discarding its empty main.pdb, see discardFailedCreate): a lock
      // on an unlinked file would protect nothing
      locks().unlock(f.fd, 0, 0);
      return -ErrorCode.EBUSY;
    }
    f.lock = mode;
    return 0;
  }

  remove(p: string): void {
    try {
      fs.unlinkSync(this.abs(p));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw vfsError(ErrorCode.ENOTFOUND, `no such file: ${p}`);
      throw e;
    }
  }

  /** rename(2), then fsync of the directory (the new name is durable on return). */
  rename(from: string, to: string): void {
    const a = this.abs(from), b = this.abs(to);
    try {
      fs.renameSync(a, b);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw vfsError(ErrorCode.ENOTFOUND, `no such file: ${a}`);
      throw e;
    }
    const fd = fs.openSync(path.dirname(b), 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  list(dir: string): string[] {
    return fs.readdirSync(this.abs(dir));
  }

  mkdir(dir: string): void {
    fs.mkdirSync(this.abs(dir), { recursive: true });
  }

  random(buf: Uint8Array): void {
    for (let i = 0; i < buf.length; i += 65536) webcrypto.getRandomValues(buf.subarray(i, Math.min(buf.length, i + 65536)));
  }
}
