/**
 * manage.ts — database management in the browser: listDatabases() and deleteDatabase()
 * on this origin's OPFS (a database is an OPFS directory holding main.pdb and its segment
 * files, FORMAT.md §1). They work in the page and in workers, with no database open.
 */
import { PagedbError, ErrorCode } from './errors.js';

/** Throws PagedbError EINVAL unless `name` can name an OPFS database directory. */
export function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name))
    throw new PagedbError(ErrorCode.EINVAL, `bad database name ${JSON.stringify(name)}: a non-empty name without '/', '\\\\' or NUL`);
}

type Dir = FileSystemDirectoryHandle & AsyncIterable<[string, FileSystemHandle]>;

async function root(): Promise<Dir> {
  if (typeof navigator === 'undefined' || !navigator.storage?.getDirectory)
    throw new PagedbError(ErrorCode.ENOTSUP, 'this context has no Origin Private File System (navigator.storage.getDirectory)');
  return (await navigator.storage.getDirectory()) as Dir;
}

async function hasMain(dir: Dir): Promise<boolean> {
  try {
    await dir.getFileHandle('main.pdb');
    return true;
  } catch {
    return false;
  }
}

/**
 * Names of the databases in this origin's OPFS (directories holding a main.pdb), sorted.
 * Rejects with PagedbError ENOTSUP when OPFS is unavailable, EIO for other OPFS failures.
 */
export async function listDatabases(): Promise<string[]> {
  const r = await root();
  const out: string[] = [];
  for await (const [n, h] of r) if (h.kind === 'directory' && (await hasMain(h as Dir))) out.push(n);
  return out.sort();
}

/**
 * Delete the database `name` (its OPFS directory and every file in it). Resolves true when
 * it existed, false when there was no such directory. The database must not be open
 * anywhere: main.pdb is removed first, which fails while any tab or worker holds it, so an
 * open database is left untouched. Rejects with PagedbError: EINVAL (bad name), EBUSY (open
 * in this or another tab or worker: close it first; or an importSnapshot into it is running),
 * ENOTDB (the directory exists but holds files and no main.pdb: not deleted), ENOTSUP (no
 * OPFS), EIO. A directory holding main.pdb.restore and no main.pdb is what a full
 * importSnapshot leaves when it is interrupted before its last rename (docs/FORMAT.md §14.4):
 * it is deleted like a database (the import's other files with it).
 */
export async function deleteDatabase(name: string): Promise<boolean> {
  checkName(name);
  const r = await root();
  let dir: Dir;
  try {
    dir = (await r.getDirectoryHandle(name)) as Dir;
  } catch (e) {
    if ((e as DOMException)?.name === 'NotFoundError') return false;
    if ((e as DOMException)?.name === 'TypeMismatchError') throw new PagedbError(ErrorCode.ENOTDB, `"${name}" is a file, not a database`);
    throw new PagedbError(ErrorCode.EIO, `opening OPFS directory "${name}": ${String((e as Error)?.message ?? e)}`);
  }
  if (await hasMain(dir)) {
    try {
      await dir.removeEntry('main.pdb');
    } catch (e) {
      const n = (e as DOMException)?.name;
      if (n === 'NoModificationAllowedError' || n === 'InvalidModificationError')
        throw new PagedbError(ErrorCode.EBUSY, `database "${name}" is open (in this or another tab or worker): close it first`);
      throw new PagedbError(ErrorCode.EIO, `removing "${name}/main.pdb": ${String((e as Error)?.message ?? e)}`);
    }
  } else {
    const names: string[] = [];
    for await (const [n] of dir) names.push(n);
    if (names.length && !names.includes('main.pdb.restore'))
      throw new PagedbError(ErrorCode.ENOTDB, `"${name}" holds files but no main.pdb: not a pagedb database, not deleted`);
    if (names.length) {
      // main.pdb.restore without main.pdb: what a full importSnapshot leaves when it stops
      // before its last rename (docs/FORMAT.md §14.4, OPFS). A running import holds the owner
      // lock for the whole import; removing the directory under it would break it.
      const removed = await navigator.locks.request(`pagedb:${name}:owner`, { ifAvailable: true }, async (lock) => {
        if (!lock) return false;
        await removeDir(r, name);
        return true;
      });
      if (!removed) throw new PagedbError(ErrorCode.EBUSY, `an importSnapshot into "${name}" is running: not deleted`);
      return true;
    }
  }
  await removeDir(r, name);
  return true;
}

async function removeDir(r: Dir, name: string): Promise<void> {
  try {
    await r.removeEntry(name, { recursive: true });
  } catch (e) {
    if ((e as DOMException)?.name !== 'NotFoundError')
      throw new PagedbError(ErrorCode.EIO, `removing OPFS directory "${name}": ${String((e as Error)?.message ?? e)}`);
  }
}
