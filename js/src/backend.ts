/**
 * backend.ts — the storage backend contract behind the wasm VFS (platform/opfs/vfs_js.c,
 * platform/opfs/lib.js). All methods are synchronous; they may throw, and the wasm import
 * layer turns the exception into a pagedb error code (an Error with a numeric `pagedbCode`
 * property sets the code explicitly). Offsets and sizes are bytes.
 * An asynchronous backend (service workers, multi-tab sharing) would sit behind the same
 * VFS by running the engine with a synchronous proxy; the contract stays the same.
 */
export interface Backend {
  /** Open `path` ('DIR/NAME'); flags: 1 create, 2 read-only. Returns a handle. */
  open(path: string, flags: number): number;
  /** Release the handle (and its lock). */
  close(h: number): void;
  /** Read into buf at byte offset off; returns bytes read (short at end of file). */
  read(h: number, buf: Uint8Array, off: number): number;
  /** Write buf at byte offset off; returns bytes written. */
  write(h: number, buf: Uint8Array, off: number): number;
  /** Make earlier writes durable. */
  sync(h: number): void;
  /** File size in bytes. */
  size(h: number): number;
  /** Set the file size in bytes. */
  truncate(h: number, size: number): void;
  /** Advisory lock: 0 none, 1 shared, 2 exclusive. Returns 0, or a negative pagedb code. */
  lock(h: number, mode: number): number;
  /** Delete a file. */
  remove(path: string): void;
  /** Names in directory dir. */
  list(dir: string): string[];
  /** Create directory dir (existing is fine). */
  mkdir(dir: string): void;
  /** Fill buf with cryptographically secure random bytes. */
  random(buf: Uint8Array): void;
  /**
   * Optional (snapshot import needs it; absent: the engine's import fails with ENOTSUP).
   * Atomically replace the file `to` (may be absent) by the file `from`, in the same
   * directory, durably (pagedb.h pagedb_vfs.rename). ENOTFOUND when `from` is absent.
   * OPFS (no synchronous move) records the rename and fails the call with ENOTSUP
   * (OpfsBackend.rename): the caller performs it asynchronously with nothing of
   * the engine open (importSnapshot after the engine's call, snapshot_import.ts; data key
   * rotation between two steps, rotate_engine.ts).
   */
  rename?(from: string, to: string): void;
  /** OPFS only: the renames rename() recorded since the last call (and forgets them). */
  takeRenames?(): [string, string][];
  /**
   * OPFS only: perform renames taken with takeRenames, in order, each atomic (move()),
   * closing the access handles of both names first and opening one on the new name after.
   * Nothing of the engine may have either file open. Rejects with the DOMException of a
   * failed move (the renames before it are done).
   */
  applyRenames?(r: [string, string][]): Promise<void>;

  /*
   * Optional members, for backends that cannot create or remove files synchronously (OPFS:
   * getFileHandle, createSyncAccessHandle and removeEntry are asynchronous). Such a backend
   * refuses open() of an absent file with the create flag (ErrorCode.ENOTSUP, remembering
   * the path) and defers remove() (the file disappears from list() and open() at once;
   * the asynchronous removal happens in settle()). Synchronous backends omit them all.
   */

  /**
   * Complete deferred work: remove the files remove() marked, and create the files open()
   * refused. With `forSegmentCreate`, also create the file that the engine's next
   * pagedb_segment_create will open (see OpfsBackend). Never rejects for a removal that
   * fails (the engine deletes a leftover segment file at its next read-write open).
   */
  settle?(forSegmentCreate?: boolean): Promise<void>;
  /** True when an open() refused to create a file since the last call (and resets it). */
  takeDeferredCreate?(): boolean;
  /** Close every file handle this backend holds (database close, pagehide). */
  releaseAll?(): void;
}

/** An Error carrying an explicit pagedb error code for the wasm import layer. */
export function vfsError(code: number, message: string): Error {
  const e = new Error(message) as Error & { pagedbCode: number };
  e.pagedbCode = code;
  return e;
}
