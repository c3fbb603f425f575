// Format identity in Chromium, for every cipher: tests/identity/ops.txt run on OPFS through
// the package in deterministic test mode gives the same main.pdb bytes (SHA-256) as the
// native CLI, and each side opens, verifies and reads the other's database (the first test:
// the default cipher, XChaCha20-Poly1305; the loop below: AES-256-GCM and plaintext + MAC,
// with writes both ways).
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const nativeCli = process.env.PAGEDB_NATIVE_CLI ?? path.join(root, 'build/release/pagedb');
const ops = fs.readFileSync(path.join(root, 'tests/identity/ops.txt'), 'utf8').trim().split('\n').map((l) => l.split(' '));
const keyHex = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const env = { ...process.env, PAGEDB_KEY: keyHex };

test('OPFS database is byte-identical to the native one and cross-opens', async ({ page }) => {
  expect(fs.existsSync(nativeCli), `missing ${nativeCli}: build the native CLI first`).toBe(true);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-browser-identity-'));
  const nativeDb = path.join(dir, 'native');
  execFileSync(path.join(root, 'tests/identity/run_cli.sh'), [nativeDb, nativeCli]);
  const nativeBytes = fs.readFileSync(path.join(nativeDb, 'main.pdb'));
  const nativeSha = createHash('sha256').update(nativeBytes).digest('hex');

  await page.goto('/tests/browser/pages/app.html');
  await page.waitForFunction(() => (window as any).ready === true);
  await page.evaluate(() => (window as any).clearOpfs());
  const r = await page.evaluate(async ({ ops, nativeBytes }) => {
    const w = window as any;
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const testSeed = Uint8Array.from({ length: 32 }, (_, i) => (i % 2 ? 0xed : 0x5e));
    for (const [op, table, k, v] of ops) {
      const db = await w.pagedb.open('ident', { key, testSeed, allowDeterministic: true, create: op === 'init' });
      if (op === 'put') await db.write((tx: any) => tx.table(table).put(k, v));
      if (op === 'del') await db.write((tx: any) => tx.table(table).delete(k));
      await db.close();
    }
    const files = await w.rawFiles('ident');
    const sha = await w.sha256(files['main.pdb']);
    // open the native database in OPFS
    await w.putFiles('fromnative', { 'main.pdb': nativeBytes });
    const db = await w.pagedb.open('fromnative', { key, create: false });
    const pages = await db.verify();
    const big = w.dec(await db.read((tx: any) => tx.table('t').get('big')));
    const gone = await db.read((tx: any) => tx.table('t').get('k07'));
    const keys: string[] = [];
    for await (const [kk] of db.range('t', {})) keys.push(w.dec(kk));
    await db.close();
    return { sha, bytes: Array.from(files['main.pdb'] as Uint8Array), pages, bigLen: big.length, gone, keys };
  }, { ops, nativeBytes: Array.from(nativeBytes) });

  expect(r.sha).toBe(nativeSha);
  expect(r.pages).toBeGreaterThan(2);
  expect(r.bigLen).toBe(6000);
  expect(r.gone).toBeUndefined();
  expect(r.keys.length).toBe(25); // k00..k24 without k07, plus big
  // the browser's database opens and verifies natively
  const fromBrowser = path.join(dir, 'frombrowser');
  fs.mkdirSync(fromBrowser);
  fs.writeFileSync(path.join(fromBrowser, 'main.pdb'), Buffer.from(r.bytes));
  expect(execFileSync(nativeCli, ['verify', fromBrowser], { env, encoding: 'utf8' })).toMatch(/^ok: /);
  expect(execFileSync(nativeCli, ['scan', fromBrowser, 'u'], { env, encoding: 'utf8' })).toBe('z\tlast\n');
});

// AES-256-GCM: natively libsodium's AES-NI code seals the pages, in Chromium BearSSL's
// portable constant-time code (the Emscripten build has no AES-NI). Plaintext + MAC ('none'):
// keyed BLAKE2b tags over readable pages. For each, the same ops in deterministic mode must
// give the same bytes, and each side opens, verifies, reads and writes the other's database.
const CIPHER_CODE = { none: 0, xchacha20poly1305: 1, aes256gcm: 2 } as const;
for (const cipher of ['aes256gcm', 'none'] as const) {
  test(`${cipher}: OPFS database is byte-identical to the native one; both ways read and write`, async ({ page }) => {
    expect(fs.existsSync(nativeCli), `missing ${nativeCli}: build the native CLI first`).toBe(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pagedb-browser-identity-${cipher}-`));
    const nativeDb = path.join(dir, 'native');
    const detEnv = {
      ...env,
      PAGEDB_TEST_SEED: '5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed',
      PAGEDB_ALLOW_DETERMINISTIC: '1',
    };
    // tests/identity/run_cli.sh's sequence, with --cipher at init
    for (const [op, a, b, c] of ops) {
      const args = op === 'init' ? ['init', nativeDb, '--cipher', cipher]
        : op === 'put' ? ['put', nativeDb, a, b, c] : ['del', nativeDb, a, b];
      execFileSync(nativeCli, args, { env: detEnv });
    }
    expect(execFileSync(nativeCli, ['stat', nativeDb, '--json'], { env, encoding: 'utf8' })).toContain(`"cipher":"${cipher}"`);
    const nativeBytes = fs.readFileSync(path.join(nativeDb, 'main.pdb'));
    const nativeSha = createHash('sha256').update(nativeBytes).digest('hex');

    await page.goto('/tests/browser/pages/app.html');
    await page.waitForFunction(() => (window as any).ready === true);
    await page.evaluate(() => (window as any).clearOpfs());
    const r = await page.evaluate(async ({ ops, nativeBytes, cipher }) => {
      const w = window as any;
      const key = Uint8Array.from({ length: 32 }, (_, i) => i);
      const testSeed = Uint8Array.from({ length: 32 }, (_, i) => (i % 2 ? 0xed : 0x5e));
      for (const [op, table, k, v] of ops) {
        const db = await w.pagedb.open(`ident-${cipher}`, {
          key, testSeed, allowDeterministic: true, create: op === 'init', cipher,
        });
        if (op === 'put') await db.write((tx: any) => tx.table(table).put(k, v));
        if (op === 'del') await db.write((tx: any) => tx.table(table).delete(k));
        await db.close();
      }
      const files = await w.rawFiles(`ident-${cipher}`);
      const sha = await w.sha256(files['main.pdb']);
      // open the native database in OPFS: verify, read, then write into it
      await w.putFiles(`fromnative-${cipher}`, { 'main.pdb': nativeBytes });
      const db = await w.pagedb.open(`fromnative-${cipher}`, { key, create: false });
      const statCipher = (await db.stat()).cipher;
      const pages = await db.verify();
      const big = w.dec(await db.read((tx: any) => tx.table('t').get('big')));
      const gone = await db.read((tx: any) => tx.table('t').get('k07'));
      await db.write((tx: any) => tx.table('t').put('from-browser', 'written in Chromium'));
      await db.close();
      const written = await w.rawFiles(`fromnative-${cipher}`);
      return {
        sha, statCipher, pages, bigLen: big.length, gone,
        bytes: Array.from(files['main.pdb'] as Uint8Array),
        written: Array.from(written['main.pdb'] as Uint8Array),
      };
    }, { ops, nativeBytes: Array.from(nativeBytes), cipher });

    expect(r.sha).toBe(nativeSha);
    expect(r.statCipher).toBe(CIPHER_CODE[cipher]);
    expect(r.pages).toBeGreaterThan(2);
    expect(r.bigLen).toBe(6000);
    expect(r.gone).toBeUndefined();
    // the native database after the browser's write: verifies natively, the write is there
    const back = path.join(dir, 'back');
    fs.mkdirSync(back);
    fs.writeFileSync(path.join(back, 'main.pdb'), Buffer.from(r.written));
    expect(execFileSync(nativeCli, ['verify', back], { env, encoding: 'utf8' })).toMatch(/^ok: /);
    expect(execFileSync(nativeCli, ['get', back, 't', 'from-browser'], { env, encoding: 'utf8' })).toBe('written in Chromium\n');
    // the browser's database opens, verifies and takes a write natively; Chromium reads it back
    const fromBrowser = path.join(dir, 'frombrowser');
    fs.mkdirSync(fromBrowser);
    fs.writeFileSync(path.join(fromBrowser, 'main.pdb'), Buffer.from(r.bytes));
    expect(execFileSync(nativeCli, ['verify', fromBrowser], { env, encoding: 'utf8' })).toMatch(/^ok: /);
    expect(execFileSync(nativeCli, ['scan', fromBrowser, 'u'], { env, encoding: 'utf8' })).toBe('z\tlast\n');
    execFileSync(nativeCli, ['put', fromBrowser, 't', 'from-native', 'written natively'], { env });
    const nativeWritten = fs.readFileSync(path.join(fromBrowser, 'main.pdb'));
    const got = await page.evaluate(async ({ bytes, cipher }) => {
      const w = window as any;
      const key = Uint8Array.from({ length: 32 }, (_, i) => i);
      await w.putFiles(`back-${cipher}`, { 'main.pdb': Uint8Array.from(bytes) });
      const db = await w.pagedb.open(`back-${cipher}`, { key, create: false });
      const pages = await db.verify();
      const v = await db.read((tx: any) => tx.table('t').get('from-native'));
      await db.close();
      return { pages, v: v === undefined ? undefined : w.dec(v) };
    }, { bytes: Array.from(nativeWritten), cipher });
    expect(got.pages).toBeGreaterThan(2);
    expect(got.v).toBe('written natively');
  });
}
