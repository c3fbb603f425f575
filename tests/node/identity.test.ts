// Format identity across targets, for every cipher (XChaCha20-Poly1305, AES-256-GCM,
// plaintext + MAC): the script tests/identity/ops.txt run in deterministic test mode by the
// native CLI, the WASI CLI (pagedb.wasm under node:wasi) and the TypeScript package
// (Emscripten build under Node) must give byte-identical main.pdb files, and each target
// must open, verify and read the others' databases; the package also writes into the native
// database and the native CLI reads the write. (The other non-browser targets — Windows,
// s390x, wasmtime, wazero — are in scripts/test-identity.sh; Chromium in
// tests/browser/identity.spec.ts.)
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
const ciphers = ['xchacha20poly1305', 'aes256gcm', 'none'] as const;
const cipherCode = { none: 0, xchacha20poly1305: 1, aes256gcm: 2 };
let dir: string;

const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

function runCli(db: string, cipher: string, cli: string[]): void {
  execFileSync(path.join(root, 'tests/identity/run_cli.sh'), [db, ...cli], {
    stdio: 'inherit', env: { ...process.env, PAGEDB_IDENTITY_CIPHER: cipher },
  });
}

function wasi(dirToOpen: string): string[] {
  return ['node', '--no-turbo-fast-api-calls', path.join(root, 'js/wasi/run.mjs'), '--dir', dirToOpen, '--env-prefix', 'PAGEDB_', wasiCli, '--'];
}

async function runTs(name: string, cipher: (typeof ciphers)[number]): Promise<void> {
  for (const [op, table, k, v] of ops) {
    const db = await open(name, { key, directory: dir, testSeed, allowDeterministic: true, create: op === 'init', cipher });
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

describe('format identity across native, WASI and Node (Emscripten), every cipher', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-identity-'));
    for (const f of [nativeCli, wasiCli]) if (!fs.existsSync(f)) throw new Error(`missing ${f}: build the native and WASI CLIs first`);
  });

  for (const cipher of ciphers) {
    it(`${cipher}: byte-identical files; each target reads the others'; TS writes, native reads`, async () => {
      const n = `native-${cipher}`, w = `wasi-${cipher}`, t = `ts-${cipher}`;
      runCli(path.join(dir, n), cipher, [nativeCli]);
      runCli(path.join(dir, w), cipher, wasi(dir));
      await runTs(t, cipher);
      const h = [n, w, t].map((x) => sha(path.join(dir, x, 'main.pdb')));
      expect(h[1]).toBe(h[0]);
      expect(h[2]).toBe(h[0]);
      expect(execFileSync(nativeCli, ['stat', path.join(dir, t), '--json'], { env, encoding: 'utf8' })).toContain(`"cipher":"${cipher}"`);

      // native reads each; WASI reads the TS one; TS reads the native and the WASI ones
      const want = dumpNative(path.join(dir, n));
      expect(dumpNative(path.join(dir, t))).toBe(want);
      expect(dumpNative(path.join(dir, w))).toBe(want);
      const wasiScan = execFileSync(wasi(dir)[0], [...wasi(dir).slice(1), 'scan', path.join(dir, t), 't'], { env, encoding: 'utf8' });
      expect(want).toContain(wasiScan);
      for (const other of [n, w]) {
        const db = await open(other, { key, directory: dir, create: false });
        expect((await db.stat()).cipher).toBe(cipherCode[cipher]);
        expect(await db.verify()).toBeGreaterThan(2);
        const big = await db.read((tx) => tx.table('t').get('big'));
        expect(new TextDecoder().decode(big)).toBe('y'.repeat(6000));
        expect(await db.read((tx) => tx.table('t').get('k07'))).toBeUndefined();
        // the TS package writes into the native database; the native CLI reads the write
        if (other === n) await db.write((tx) => tx.table('t').put('from-ts', 'written by Emscripten'));
        await db.close();
      }
      expect(execFileSync(nativeCli, ['verify', path.join(dir, n)], { env, encoding: 'utf8' })).toMatch(/^ok: /);
      expect(execFileSync(nativeCli, ['get', path.join(dir, n), 't', 'from-ts'], { env, encoding: 'utf8' })).toBe('written by Emscripten\n');
    }, 180_000); // ~20 s each on a quiet machine: ~90 CLI runs (29 of them WASI under Node)
  }
});
