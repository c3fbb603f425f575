// Data key rotation from the TypeScript package under Node, on real files (db.rotateKeys;
// pagedb.h pagedb_rekey with no new KEK, docs/FORMAT.md §13.3): the first step loads the
// full module (dist/pagedb-full.wasm) and switches the open database to it; every page of
// main.pdb and every segment file is re-sealed under the new key epoch (page header
// offset 8, FORMAT.md §3); abort and resume; writes between steps; the native CLI
// verifies the result.
import { describe, it, expect, beforeEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { open, ErrorCode, type Database, type MaintenanceProgress } from '../../dist/node.js';
import { rejectsWith } from './util.js';

const key = Uint8Array.from({ length: 32 }, (_, i) => 7 * i + 1);
const cli = path.resolve(__dirname, '../../build/release/pagedb');
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-rotate-'));
});

/**
 * Key epochs of the sealed pages of a file (FORMAT.md §3: kind at 0, epoch u32 LE at 8),
 * page size P; main.pdb's two header pages and zeroed (kind 0) pages are skipped.
 */
function epochs(file: string, P: number, skip: number): Map<number, number> {
  const b = fs.readFileSync(file), out = new Map<number, number>();
  for (let o = skip * P; o + P <= b.length; o += P) {
    if (b[o] === 0) continue;
    const e = b.readUInt32LE(o + 8);
    out.set(e, (out.get(e) ?? 0) + 1);
  }
  return out;
}
const mainEpochs = (name: string) => epochs(path.join(dir, name, 'main.pdb'), 4096, 2);
const segFiles = (name: string) => fs.readdirSync(path.join(dir, name)).filter((f) => /^seg-.*\.pds$/.test(f));

/** Every entry of table t, as text, in order. */
async function dump(db: Database, t = 't'): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of db.range(t)) out.push(`${Buffer.from(k).toString()}=${Buffer.from(v).toString()}`);
  return out;
}

async function fill(db: Database, n: number, tag = 'v'): Promise<void> {
  for (let b = 0; b < n; b += 500)
    await db.write((tx) => {
      for (let i = b; i < Math.min(n, b + 500); i++) tx.table('t').put(`k${String(i).padStart(6, '0')}`, `${tag}${i}:`.padEnd(300, 'x'));
    });
}

/** A sealed, linked segment of realm 0 holding `bytes`. */
async function segment(db: Database, bytes: Uint8Array): Promise<bigint> {
  const s = await db.segments.create();
  await s.append(bytes);
  await s.seal();
  await db.write((tx) => tx.segments.link(s.id));
  await s.close();
  return s.id;
}

describe('db.rotateKeys (Node)', () => {
  it('re-seals every page and segment under a new epoch; contents equal; reopen and the native CLI verify', async () => {
    const db = await open('r1', { directory: dir, key });
    await fill(db, 3000);
    const data = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31) & 255);
    const id = await segment(db, data);
    const before = await dump(db);
    const e0 = mainEpochs('r1');
    expect([...e0.keys()]).toEqual([0]);
    const segBefore = segFiles('r1').map((f) => epochs(path.join(dir, 'r1', f), 4096, 0));
    expect(segBefore.every((m) => [...m.keys()].join() === '0')).toBe(true);
    const seen: MaintenanceProgress[] = [];
    const r = await db.rotateKeys({ pagesPerStep: 32, onProgress: (p) => seen.push(p) });
    expect(r.done).toBe(true);
    expect(r.phase).toBe(0);
    expect(seen.length).toBeGreaterThan(3);
    expect(new Set(seen.map((p) => p.phase))).toEqual(new Set([1, 5, 2, 3, 4, 6, 0]));
    expect(r.steps).toBe(seen.length);
    // every sealed page of main.pdb and of the segment file now carries epoch 1
    expect([...mainEpochs('r1').keys()]).toEqual([1]);
    for (const f of segFiles('r1')) expect([...epochs(path.join(dir, 'r1', f), 4096, 0).keys()]).toEqual([1]);
    expect(await dump(db)).toEqual(before);
    const s = await db.segments.open(id);
    expect(Buffer.from(await s.read(0, data.length)).equals(Buffer.from(data))).toBe(true);
    await s.close();
    expect(await db.verify()).toBeGreaterThan(0);
    // the database is served by the full module now: writes and a second rotation work
    await fill(db, 100, 'w');
    const r2 = await db.rotateKeys({ realm: 0 });
    expect(r2.done).toBe(true);
    expect([...mainEpochs('r1').keys()]).toEqual([2]);
    const after = await dump(db);
    await db.close();
    const db2 = await open('r1', { directory: dir, key });
    expect(await dump(db2)).toEqual(after);
    await db2.close();
    if (fs.existsSync(cli)) {
      const out = execFileSync(cli, ['verify', path.join(dir, 'r1')], { env: { ...process.env, PAGEDB_KEY: Buffer.from(key).toString('hex') } }).toString();
      expect(out).toMatch(/^ok: \d+ pages verified/);
    } else {
      throw new Error(`native CLI missing: ${cli} (cmake --build build/release --target pagedb)`);
    }
  });

  it('abort between steps leaves committed steps; writes in between; the next call (after a reopen) resumes', async () => {
    const db = await open('r2', { directory: dir, key });
    await fill(db, 4000);
    const ac = new AbortController();
    let steps = 0;
    const e = await rejectsWith(db.rotateKeys({ pagesPerStep: 16, signal: ac.signal, onProgress: () => { if (++steps === 3) ac.abort(); } }), ErrorCode.ECANCELED);
    expect(e.message).toMatch(/resumable/);
    // mid-rotation: new writes use the new epoch, old pages remain
    const mid = mainEpochs('r2');
    expect(mid.get(0)).toBeGreaterThan(0);
    expect(mid.get(1)).toBeGreaterThan(0);
    await fill(db, 200, 'm'); // writes between steps
    const want = await dump(db);
    await db.close();
    // a new handle (first-load module again) resumes from the stored record
    const db2 = await open('r2', { directory: dir, key });
    expect(await dump(db2)).toEqual(want);
    const seen: MaintenanceProgress[] = [];
    const r = await db2.rotateKeys({ pagesPerStep: 64, onProgress: (p) => seen.push(p) });
    expect(r.done).toBe(true);
    expect(seen[0].phase).not.toBe(0);
    expect(seen[0].pagesDone).toBeGreaterThan(0); // counted from the first call: resumed, not restarted
    expect([...mainEpochs('r2').keys()]).toEqual([1]);
    expect(await dump(db2)).toEqual(want);
    await db2.close();
  });

  it('a database left mid-rotation, reopened in the first-load module, loses no segment byte; rotateKeys finishes it', async () => {
    // regression: the first-load module (PAGEDB_NO_ROTATE) opened segments with the
    // realm's current epoch, so its read-write open "normalised" an unsealed linked segment
    // of the old epoch (none of its pages authenticated) by truncating it to 0 bytes
    const db = await open('r5', { directory: dir, key });
    await fill(db, 200);
    const ids: bigint[] = [];
    for (let j = 0; j < 3; j++) {
      const s = await db.segments.create();
      await s.append(new Uint8Array(50_000).fill(j + 1));
      if (j < 2) await s.seal();
      await s.sync();
      await db.write((tx) => tx.segments.link(s.id));
      await s.close();
      ids.push(s.id);
    }
    const ac = new AbortController();
    await rejectsWith(db.rotateKeys({ pagesPerStep: 1000, signal: ac.signal, onProgress: (p) => { if (p.phase === 5) ac.abort(); } }), ErrorCode.ECANCELED);
    await db.close();
    const sizes = () => segFiles('r5').map((f) => fs.statSync(path.join(dir, 'r5', f)).size);
    const before = sizes();
    const db2 = await open('r5', { directory: dir, key }); // the first-load module
    expect(sizes()).toEqual(before); // the open changed no segment file
    // segments of a realm in the middle of a rotation: a typed error naming the way out
    for (const id of ids) expect((await rejectsWith(db2.segments.open(id), ErrorCode.ENOTSUP)).message).toMatch(/rotation.*rotateKeys/);
    await rejectsWith(db2.segments.list(), ErrorCode.ENOTSUP); // the unsealed one's length is unknown here
    expect(await dump(db2)).toHaveLength(200); // tables read on
    const r = await db2.rotateKeys();
    expect(r.done).toBe(true);
    expect((await db2.segments.list()).map((i) => i.length)).toEqual([50_000, 50_000, 50_000]);
    for (let j = 0; j < 3; j++) {
      const s = await db2.segments.open(ids[j]);
      expect(Buffer.from(await s.read(0, 50_000)).equals(Buffer.alloc(50_000, j + 1))).toBe(true);
      await s.close();
    }
    await db2.close();
  });

  it('concurrent writes while steps run keep every commit; reads never see a changed value', async () => {
    const db = await open('r3', { directory: dir, key });
    await fill(db, 2000);
    let n = 0, stop = false;
    const writer = (async () => {
      while (!stop) {
        await db.write((tx) => tx.table('w').put(`w${n}`, `${n}`));
        n++;
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const snapshot = await dump(db);
    const r = await db.rotateKeys({ pagesPerStep: 8 });
    stop = true;
    await writer;
    expect(r.done).toBe(true);
    expect(n).toBeGreaterThan(0);
    expect(await dump(db)).toEqual(snapshot);
    const w = await dump(db, 'w');
    expect(w.length).toBe(n);
    expect([...mainEpochs('r3').keys()]).toEqual([1]);
    await db.close();
  });

  it('the switch reopens with the current credential: passphrase database, db.rekey before rotateKeys', async () => {
    const kdf = { pwhashOpsLimit: 1, pwhashMemLimit: 8192 };
    const db = await open('r6', { directory: dir, passphrase: 'first', ...kdf });
    await fill(db, 300);
    await db.rekey({ newPassphrase: 'second', ...kdf }); // in the first-load module
    expect((await db.rotateKeys()).done).toBe(true);    // reopened in the full module with 'second'
    await db.write((tx) => tx.table('t').put('after', 'rotation'));
    await db.close();
    await rejectsWith(open('r6', { directory: dir, passphrase: 'first', create: false }), ErrorCode.EKEY);
    const db2 = await open('r6', { directory: dir, passphrase: 'second', create: false });
    expect(await dump(db2)).toHaveLength(301);
    await db2.close();
    expect([...mainEpochs('r6').keys()]).toEqual([1]);
  });

  it('stat() reports the seal counter of the busiest page key: one seal per page written; a rotation starts the epoch at 0', async () => {
    const db = await open('r5', { directory: dir, key, cipher: 'aes256gcm' });
    await fill(db, 20);
    const a = await db.stat();
    expect(a.sealLimit).toBe(2 ** 32); // AES-256-GCM, random 96-bit nonces (FORMAT.md §13.2)
    expect(a.sealRealm).toBe(0);
    expect(a.sealFlags).toBe(0);
    expect(a.seals).toBeGreaterThan(0);
    await fill(db, 600, 'w'); // two commits of 500 and 100 puts
    const b = await db.stat();
    // every page written is one seal, except the header page of each commit (MACed, not sealed)
    expect(b.seals - a.seals).toBe((b.bytesWritten - a.bytesWritten) / b.pageSize - (b.txnId - a.txnId));
    expect((await db.rotateKeys({ realm: 0 })).done).toBe(true);
    const c = await db.stat();
    expect(c.sealEpoch).toBe(a.sealEpoch + 1);
    // the new epoch's count holds only the rotation's own seals (not b.seals on top): the
    // rotation ran on the full module's handle, whose bytesWritten starts at its open
    expect(c.seals).toBeGreaterThan(0);
    expect(c.seals).toBeLessThanOrEqual(c.bytesWritten / c.pageSize);
    await db.close();
    const x = await open('r6', { directory: dir, key });
    await fill(x, 20);
    expect((await x.stat()).sealLimit).toBe(0); // XChaCha20-Poly1305: no limit
    await x.close();
  });

  it('typed errors: bad options, unknown realm, read-only, open state blocking the switch (bounded)', async () => {
    const db = await open('r4', { directory: dir, key });
    await fill(db, 50);
    await rejectsWith(db.rotateKeys({ realm: 'x' as unknown as number }), ErrorCode.EINVAL);
    await rejectsWith(db.rotateKeys({ realm: -1 }), ErrorCode.EINVAL);
    await rejectsWith(db.rotateKeys({ rate: -5 }), ErrorCode.EINVAL);
    await rejectsWith(db.rotateKeys({ bogus: 1 } as never), ErrorCode.EINVAL);
    // a segment handle open in this Database: the switch to the full module waits, then EBUSY
    const s = await db.segments.create();
    const t0 = Date.now();
    const e = await rejectsWith(db.rotateKeys({ busyTimeout: 300 }), ErrorCode.EBUSY);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(e.message).toMatch(/segment handle/);
    await s.close();
    await rejectsWith(db.rotateKeys({ realm: 5 }), ErrorCode.ENOTFOUND);
    expect((await db.rotateKeys({ realm: 0 })).done).toBe(true);
    await db.close();
    const ro = await open('r4', { directory: dir, key, readOnly: true });
    await rejectsWith(ro.rotateKeys(), ErrorCode.EMISUSE);
    await ro.close();
  });
});
