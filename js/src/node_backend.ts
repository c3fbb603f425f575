/**
 * node_backend.ts — the Backend on node:fs (used by the package under Node and by the
 * Vitest suite). Positional reads/writes, fdatasync, ftruncate. Node has no advisory
 * file locks: exclusive locks are tracked per process (a second opener in the same
 * process gets EBUSY); separate processes are not excluded — documented limit.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { webcrypto } from 'node:crypto';
import { vfsError, type Backend } from './backend.js';

const held = new Map<string, number>(); // absolute path -> lock mode held in this process

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
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw vfsError(1, `no such file: ${abs}`);
      throw e;
    }
    const h = this.next++;
    this.files.set(h, { fd, abs, lock: 0 });
    return h;
  }

  private f(h: number) {
    const f = this.files.get(h);
    if (!f) throw vfsError(8, `bad file handle ${h}`);
    return f;
  }

  close(h: number): void {
    const f = this.f(h);
    this.lock(h, 0);
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

  lock(h: number, mode: number): number {
    const f = this.f(h);
    if (mode === f.lock) return 0;
    const cur = held.get(f.abs) ?? 0;
    if (mode === 0) {
      if (f.lock) held.delete(f.abs);
      f.lock = 0;
      return 0;
    }
    if (cur && !(cur === 1 && mode === 1)) return -2; // EBUSY
    held.set(f.abs, mode);
    f.lock = mode;
    return 0;
  }

  remove(p: string): void {
    try {
      fs.unlinkSync(this.abs(p));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw vfsError(1, `no such file: ${p}`);
      throw e;
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
