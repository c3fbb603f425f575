// The Segment File API of the TypeScript package under Node, on real files. The cases shared
// with the browser runner (tests/shared/segment_cases.mjs: round trips of edge sizes, random
// reads against the source, sealing, linking and reopening, listing, deleting, tampered
// files, streaming appends with bounded buffering, several segments written concurrently,
// batching of small appends, ids) run here on a temporary directory; the synchronous API
// is Node's own case.
// Random data comes from a seeded generator; the seed is printed and can be fixed with
// PAGEDB_TEST_SEED=<n> to reproduce a failure.
import { describe, it, expect, beforeEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, openSync, PagedbError, ErrorCode, SEGMENT_BATCH_BYTES } from '../../dist/node.js';
import { rng } from '../shared/xorshift.mjs';
import { segmentCases } from '../shared/segment_cases.mjs';

const key = new Uint8Array(32).map((_, i) => 200 - i);
const C = 4096 - 72; // payload bytes per segment data page (FORMAT.md §9)
const seed = Number(process.env.PAGEDB_TEST_SEED ?? Date.now() % 1_000_000);
console.log(`segments.test.ts seed=${seed}`);
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-segments-'));
});

/** Byte-exact comparison with a useful message (first differing offset). */
function same(got: Uint8Array, want: Uint8Array, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) throw new Error(`${what}: first difference at byte ${i}`);
}

const cases = segmentCases({
  expect,
  open: (name: string, options: object = {}) => open(name, { key, directory: dir, ...options }),
  ErrorCode,
  PagedbError,
  SEGMENT_BATCH_BYTES,
  seed,
  files: {
    exists: async (db: string, f: string) => fs.existsSync(path.join(dir, db, f)),
    size: async (db: string, f: string) => fs.statSync(path.join(dir, db, f)).size,
    read: async (db: string, f: string) => new Uint8Array(fs.readFileSync(path.join(dir, db, f))),
    write: async (db: string, f: string, b: Uint8Array) => fs.writeFileSync(path.join(dir, db, f), b),
    list: async (db: string) => fs.readdirSync(path.join(dir, db)).sort(),
  },
});

describe('segments (node)', () => {
  for (const c of cases) it(c.name, c.run);

  it('offers segments in the synchronous API', async () => {
    const r = rng(seed + 6);
    const db = await openSync('sync', { key, directory: dir });
    expect(db.segmentPayload()).toBe(C);
    const data = r.bytes(3 * 1024 * 1024 + 5); // more than one heap slice
    const seg = await db.createSegmentAsync();
    seg.append(data);
    const s2 = db.createSegment();
    s2.append('second');
    same(seg.read(0, data.length), data, 'sync read');
    seg.seal();
    expect(seg.isSealed).toBe(true);
    expect(() => seg.seal()).toThrow(PagedbError);
    const w = db.beginWrite();
    w.linkSegment(seg.id, 'm');
    expect(w.getSegment(seg.id)?.sealed).toBe(true);
    w.commit();
    expect(db.listSegments().map((x) => x.id)).toEqual([seg.id]);
    s2.close();
    db.deleteSegment(s2.id);
    expect(() => db.openSegment(s2.id)).toThrow(PagedbError);
    seg.close();
    db.close();
    const again = await openSync('sync', { key, directory: dir });
    const ro = again.openSegment(seg.id, { verify: true });
    expect(ro.isSealed).toBe(true);
    expect(ro.stat().length).toBe(data.length);
    same(ro.read(1000, 5000), data.subarray(1000, 6000), 'sync reopen');
    try {
      ro.append('x');
      throw new Error('append on a read handle succeeded');
    } catch (e) {
      expect((e as PagedbError).code).toBe(ErrorCode.EMISUSE);
    }
    again.close(); // closes ro too
    expect(() => ro.read(0, 1)).toThrow(PagedbError);
  });
});
