// Two processes on one database (issue 10, defect 1): a second read-write opener in
// another process — Node or the native CLI — gets EBUSY instead of silently losing
// commits; the lock is a kernel lock on the open file (fcntl OFD on Linux), so a process
// killed with SIGKILL leaves nothing behind. Read-only openers take the shared lock (the
// native reader model): they are refused while a read-write handle is open.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { open, PagedbError, ErrorCode } from '../../dist/node.js';
import { rejectsWith } from './util';

const root = path.resolve(__dirname, '../..');
const nativeCli = process.env.PAGEDB_NATIVE_CLI ?? path.join(root, 'build/release/pagedb');
const key = new Uint8Array(32).map((_, i) => 200 - i);
const keyHex = Buffer.from(key).toString('hex');
let dir: string;
let child: ChildProcess | undefined;

// A second process: opens DIR/NAME (mode rw, ro or hold) and reports on stdout.
const childSource = `
import { open } from ${JSON.stringify(pathToFileURL(path.join(root, 'dist/node.js')).href)};
const [dir, name, mode, keyHex] = process.argv.slice(2);
const key = new Uint8Array(Buffer.from(keyHex, 'hex'));
try {
  const db = await open(name, { key, directory: dir, ...(mode === 'ro' ? { readOnly: true } : {}) });
  if (mode === 'hold') {
    await db.write((tx) => { for (let i = 0; i < 500; i++) tx.table('t').put('b' + String(i).padStart(3, '0'), 'from child'); });
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);
  } else {
    const n = await db.read(async (tx) => { let n = 0; for await (const _ of tx.range('t')) n++; return n; });
    process.stdout.write('opened ' + n + '\\n');
    await db.close();
  }
} catch (e) {
  process.stdout.write('error ' + (e.codeName ?? e.message) + '\\n');
}
`;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-lock-'));
  fs.writeFileSync(path.join(dir, 'child.mjs'), childSource);
});
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Run the child to completion (mode rw or ro); its one-line report. */
function runChild(name: string, mode: 'rw' | 'ro'): string {
  const r = spawnSync(process.execPath, [path.join(dir, 'child.mjs'), dir, name, mode, keyHex], { encoding: 'utf8', timeout: 30_000 });
  expect(r.stderr).toBe('');
  return r.stdout.trim();
}

/** Start a child that opens read-write, commits 500 keys, says "ready" and waits. */
async function holdingChild(name: string): Promise<ChildProcess> {
  const c = spawn(process.execPath, [path.join(dir, 'child.mjs'), dir, name, 'hold', keyHex], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`child not ready: ${out}`)), 30_000);
    c.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(t);
        resolve();
      } else if (out.includes('error')) {
        clearTimeout(t);
        reject(new Error(`child: ${out}`));
      }
    });
  });
  return c;
}

describe('file lock across processes (defect 1)', () => {
  it('lock-1: a read-write open in another Node process gets EBUSY while this one holds the database', async () => {
    const db = await open('db', { key, directory: dir });
    await db.write((tx) => tx.table('t').put('a', 'from parent'));
    expect(runChild('db', 'rw')).toBe('error PAGEDB_EBUSY');
    expect(runChild('db', 'ro')).toBe('error PAGEDB_EBUSY'); // reader model: shared vs exclusive
    await db.close();
    expect(runChild('db', 'rw')).toBe('opened 1');
    // read-only openers share the lock with each other
    const ro = await open('db', { key, directory: dir, readOnly: true });
    expect(runChild('db', 'ro')).toBe('opened 1');
    expect(runChild('db', 'rw')).toBe('error PAGEDB_EBUSY');
    await ro.close();
  });

  it('lock-2: the other process holding it: EBUSY here, no commit lost; SIGKILL leaves no lock behind', async () => {
    child = await holdingChild('db');
    const e = await rejectsWith(open('db', { key, directory: dir }), ErrorCode.EBUSY);
    expect(e.message).toContain('open read-write by another handle or process');
    await rejectsWith(open('db', { key, directory: dir, readOnly: true }), ErrorCode.EBUSY);
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    const db = await open('db', { key, directory: dir });
    let n = 0;
    for await (const [k, v] of db.range('t')) {
      expect(new TextDecoder().decode(v)).toBe('from child');
      expect(new TextDecoder().decode(k)).toBe(`b${String(n).padStart(3, '0')}`);
      n++;
    }
    expect(n).toBe(500);
    await db.write((tx) => tx.table('t').put('after', 'kill'));
    expect(await db.verify()).toBeGreaterThan(0);
    await db.close();
  });

  it('lock-3: the native CLI and Node exclude each other (the same fcntl OFD lock)', async () => {
    if (!fs.existsSync(nativeCli)) throw new Error(`missing ${nativeCli}: build the native CLI first (scripts/test-js.sh does)`);
    const env = { ...process.env, PAGEDB_KEY: keyHex };
    const cli = (args: string[], input?: string) => spawnSync(nativeCli, args, { env, encoding: 'utf8', input, timeout: 30_000 });
    const dbDir = path.join(dir, 'n');
    expect(cli(['init', dbDir]).status).toBe(0);
    // Node holds it: the native writer is refused
    const db = await open('n', { key, directory: dir });
    const put = cli(['put', dbDir, 't', 'k', 'native']);
    expect(put.status).toBe(3);
    expect(put.stderr).toMatch(/open read-write by another handle or process/);
    await db.close();
    expect(cli(['put', dbDir, 't', 'k', 'native']).status).toBe(0);
    // the native CLI holds it (an append reading stdin that stays open): Node is refused
    const created = cli(['segment', 'create', dbDir]);
    expect(created.status).toBe(0);
    const id = created.stdout.trim().split(/\s+/).pop()!;
    const holder = spawn(nativeCli, ['segment', 'append', dbDir, id, '-'], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    child = holder;
    holder.stdin!.write('x'.repeat(100));
    // wait until the CLI has opened the segment file, which it does after locking main.pdb
    // (Linux: its descriptors in /proc; probing with an open could race with its lock)
    const opened = () => {
      try {
        return fs.readdirSync(`/proc/${holder.pid}/fd`).some((fd) => {
          try {
            return fs.readlinkSync(`/proc/${holder.pid}/fd/${fd}`).endsWith('.pds');
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 400 && !opened(); i++) await new Promise((r) => setTimeout(r, 25));
    expect(opened()).toBe(true);
    await rejectsWith(open('n', { key, directory: dir, readOnly: true }), ErrorCode.EBUSY);
    await rejectsWith(open('n', { key, directory: dir }), ErrorCode.EBUSY);
    holder.stdin!.end();
    const status = await new Promise((r) => holder.once('exit', r));
    expect(status).toBe(0);
    const again = await open('n', { key, directory: dir });
    expect(new TextDecoder().decode(await again.read((tx) => tx.table('t').get('k')))).toBe('native');
    await again.close();
  });
});
