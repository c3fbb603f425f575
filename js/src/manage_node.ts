/**
 * manage_node.ts — database management under Node: listDatabases() and deleteDatabase()
 * in a directory of node:fs (a database is a directory holding main.pdb and its segment
 * files "seg-<16 hex>.pds", FORMAT.md §1).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PagedbError, ErrorCode } from './errors.js';
import { NodeBackend } from './node_backend.js';

/** Options of the Node management functions. */
export interface ManageOptions {
  /** Directory holding the database directories (default the current directory). */
  directory?: string;
}

const SEG = /^seg-[0-9a-f]{16}\.pds$/;

/**
 * Names of the database directories directly inside `options.directory` (default cwd):
 * subdirectories holding a main.pdb, sorted. Rejects with PagedbError ENOTFOUND (no such
 * directory) or EIO.
 */
export async function listDatabases(options: ManageOptions = {}): Promise<string[]> {
  const base = path.resolve(options.directory ?? process.cwd());
  let ents: fs.Dirent[];
  try {
    ents = fs.readdirSync(base, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PagedbError(code === 'ENOENT' ? ErrorCode.ENOTFOUND : ErrorCode.EIO, `listing ${base}: ${(e as Error).message}`);
  }
  return ents.filter((d) => d.isDirectory() && fs.existsSync(path.join(base, d.name, 'main.pdb'))).map((d) => d.name).sort();
}

/**
 * Delete the database directory `name` (relative to `options.directory`, as in open()):
 * main.pdb, its segment files and lock files, then the directory if nothing else is in
 * it (other files are left alone). Resolves true when a database existed, false when
 * there was no such directory. While deleting it holds the database's exclusive lock, so
 * a database open in this or another process is left untouched.
 * Rejects with PagedbError: EINVAL (bad name), EBUSY (open: close it first), ENOTDB (the
 * directory holds files but no main.pdb: not deleted), EIO.
 */
export async function deleteDatabase(name: string, options: ManageOptions = {}): Promise<boolean> {
  if (typeof name !== 'string' || name === '' || name.includes('\0'))
    throw new PagedbError(ErrorCode.EINVAL, `bad database name ${JSON.stringify(name)}`);
  const base = path.resolve(options.directory ?? process.cwd());
  const dir = path.resolve(base, name);
  if (dir === base || dir === path.parse(dir).root) throw new PagedbError(ErrorCode.EINVAL, `bad database name ${JSON.stringify(name)}`);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'ENOTDIR') throw new PagedbError(ErrorCode.ENOTDB, `${dir} is a file, not a database directory`);
    throw new PagedbError(ErrorCode.EIO, `reading ${dir}: ${(e as Error).message}`);
  }
  if (!names.includes('main.pdb')) {
    if (names.length) throw new PagedbError(ErrorCode.ENOTDB, `${dir} holds files but no main.pdb: not a pagedb database, not deleted`);
    fs.rmdirSync(dir);
    return true;
  }
  const b = new NodeBackend(base);
  let h: number;
  try {
    h = b.open(path.relative(base, path.join(dir, 'main.pdb')), 0);
  } catch (e) {
    throw new PagedbError(ErrorCode.EIO, `opening ${dir}/main.pdb: ${(e as Error).message}`);
  }
  let rc: number;
  try {
    rc = b.lock(h, 2);
  } catch (e) {
    rc = -ErrorCode.EBUSY;
  }
  try {
    if (rc !== 0) throw new PagedbError(ErrorCode.EBUSY, `database ${dir} is open (in this or another process): close it first`);
    try {
      // main.pdb first: without it nothing else is a database any more
      fs.unlinkSync(path.join(dir, 'main.pdb'));
      for (const n of names) if (SEG.test(n)) fs.rmSync(path.join(dir, n), { force: true });
    } catch (e) {
      throw new PagedbError(ErrorCode.EIO, `deleting ${dir}: ${(e as Error).message}`);
    }
  } finally {
    try {
      b.close(h);
    } catch {
      /* the lock goes with the descriptor */
    }
  }
  // lock files left by the backend (named after main.pdb), then the directory when empty
  for (const n of fs.readdirSync(dir)) if (n.startsWith('main.pdb')) fs.rmSync(path.join(dir, n), { force: true });
  try {
    fs.rmdirSync(dir);
  } catch {
    /* other files: left alone */
  }
  return true;
}
