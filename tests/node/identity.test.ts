// Format identity across targets: the script tests/identity/ops.txt run in deterministic
// test mode by the native CLI, the WASI CLI (pagedb.wasm under node:wasi) and the
// TypeScript package (Emscripten build under Node) must give byte-identical main.pdb files,
// and each target must open, verify and read the others' databases.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open } from '../../dist/node.js';

const root = path.resolve(__dirname, '../..');
const nativeCli = process.env.PAGEDB_NATIVE_CLI ?? path.join(root, 'build/release/pagedb');
const wasiCli = path.join(root, 'build/wasi/pagedb.wasm');
const key = Uint8Array.from({ length: 32 }, (_, i) => i);
const testSeed = Uint8Array.from({ length: 32 }, (_, i) => (i % 2 ? 0xed : 0x5e));
const ops = fs.readFileSync(path.join(root, 'tests/identity/ops.txt'), 'utf8').trim().split('\n').map((l) => l.split(' '));
const env = { ...process.env, PAGEDB_KEY: Buffer.from(key).toString('hex') };
let dir: string;

const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

function runCli(db: string, cli: string[]): void {
  execFileSync(path.join(root, 'tests/identity/run_cli.sh'), [db, ...cli], { stdio: 'inherit' });
}

function wasi(dirToOpen: string): string[] {
  return ['node', '--no-turbo-fast-api-calls', path.join(root, 'js/wasi/run.mjs'), '--dir', dirToOpen, '--env-prefix', 'PAGEDB_', wasiCli, '--'];
}

async function runTs(name: string): Promise<void> {
  for (const [op, table, k, v] of ops) {
    const db = await open(name, { key, directory: dir, testSeed, allowDeterministic: true, create: op === 'init' });
    if (op === 'put') await db.write((tx) => tx.table(table).put(k, v));
    if (op === 'del') await db.write((tx) => tx.table(table).delete(k));
    await db.close();
  }
}

/** Everything a database holds, as text, read through the native CLI. */
function dumpNative(db: string): string {
  const run = (...a: string[]) => execFileSync(nativeCli, a, { env, encoding: 'utf8' });
  expect(run('verify', db)).toMatch(/^ok: \d+ pages verified/);
  return run('tables', db) + run('scan', db, 't') + run('scan', db, 'u');
}

describe('format identity across native, WASI and Node (Emscripten)', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-identity-'));
    for (const f of [nativeCli, wasiCli]) if (!fs.existsSync(f)) throw new Error(`missing ${f}: build the native and WASI CLIs first`);
  });

  it('gives byte-identical files and cross-opens', async () => {
    runCli(path.join(dir, 'native'), [nativeCli]);
    runCli(path.join(dir, 'wasi'), wasi(dir));
    await runTs('ts');
    const h = ['native', 'wasi', 'ts'].map((n) => sha(path.join(dir, n, 'main.pdb')));
    expect(h[1]).toBe(h[0]);
    expect(h[2]).toBe(h[0]);

    // cross-open: native reads each, WASI reads the TS one, TS reads the native one
    const want = dumpNative(path.join(dir, 'native'));
    expect(dumpNative(path.join(dir, 'ts'))).toBe(want);
    expect(dumpNative(path.join(dir, 'wasi'))).toBe(want);
    const wasiScan = execFileSync(wasi(dir)[0], [...wasi(dir).slice(1), 'scan', path.join(dir, 'ts'), 't'], { env, encoding: 'utf8' });
    expect(want).toContain(wasiScan);
    const db = await open('native', { key, directory: dir, create: false });
    expect(await db.verify()).toBeGreaterThan(2);
    const big = await db.read((tx) => tx.table('t').get('big'));
    expect(new TextDecoder().decode(big)).toBe('y'.repeat(6000));
    expect(await db.read((tx) => tx.table('t').get('k07'))).toBeUndefined();
    await db.close();
  });
});
