// The segment cases shared by the Node runner (Vitest, tests/node/segments.test.ts, real
// files in a temporary directory) and the browser runner (Playwright + Chromium,
// tests/browser/segments.spec.ts, OPFS; the page imports this module from the static
// server): round trips of edge sizes, random reads against the source, sealing, linking and
// reopening, listing, deleting, tampered files, streaming appends with bounded buffering,
// several segments written concurrently, batching of small appends, and segment ids.
// Each case runs the TypeScript package's promise API against the engine on real files and
// asserts with the runner's `expect` (Vitest's in Node, tests/shared/expect.mjs in the page).
import { rng } from './xorshift.mjs';

const PAGE = 4096;
const C = PAGE - 72; // payload bytes per segment data page (FORMAT.md §9)

/** The file name of segment `id` in its database directory (FORMAT.md §9). */
export const segName = (id) => `seg-${BigInt(id).toString(16).padStart(16, '0')}.pds`;

/**
 * The case list, bound to one runner's environment `env`:
 *   expect               the assertion function (Vitest's expect, or the page's subset)
 *   open(name, options)  the package's open() with the runner's key and storage added
 *                        (options: cacheBytes ...); resolves to a Database
 *   ErrorCode, PagedbError, SEGMENT_BATCH_BYTES   the package's exports
 *   seed                 the seed of the random data (the runner prints it)
 *   files                the raw files of a database directory named `db`, by file name:
 *                        exists(db, f), size(db, f) (bytes), read(db, f) (a new Uint8Array),
 *                        write(db, f, bytes) (replaces the file), list(db) (sorted names)
 * Returns [{ name, run }], run() resolving when the case passed and rejecting otherwise.
 * Building the list does not touch env, so a runner may build it with {} to read the names.
 */
export function segmentCases(env) {
  const { expect, open, ErrorCode, PagedbError, SEGMENT_BATCH_BYTES, seed, files } = env;

  async function rejectsWith(p, ...codes) {
    try {
      await p;
    } catch (e) {
      expect(e, String(e)).toBeInstanceOf(PagedbError);
      expect(codes, String(e)).toContain(e.code);
      return e;
    }
    throw new Error(`expected a rejection with code ${codes.join(' or ')}`);
  }

  /** Byte-exact comparison with a useful message (first differing offset). */
  function same(got, want, what) {
    expect(got.length, `${what}: length`).toBe(want.length);
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) throw new Error(`${what}: first difference at byte ${i}`);
  }

  /** Append `src` in randomly sized pieces (small ones, page-sized ones, and > 1 MiB ones). */
  async function appendPieces(seg, src, r) {
    const sizes = [1, 7, 100, C - 1, C, C + 1, 65536, SEGMENT_BATCH_BYTES + 3];
    for (let off = 0; off < src.length;) {
      const n = Math.min(src.length - off, sizes[r.int(sizes.length)]);
      await seg.append(src.subarray(off, off + n));
      off += n;
    }
  }

  return [
    {
      name: 'round-trips 0, 1, page-1, page, page+1 and several MB, sealed, linked, reopened',
      run: async () => {
        const r = rng(seed);
        const sizes = [0, 1, C - 1, C, C + 1, 2 * C + 17, 5 * 1024 * 1024 + 12345];
        const src = sizes.map((n) => r.bytes(n));
        const db = await open('rt', { cacheBytes: 1 << 20 });
        const ids = [];
        for (let i = 0; i < sizes.length; i++) {
          const seg = await db.segments.create();
          expect(typeof seg.id).toBe('bigint');
          await appendPieces(seg, src[i], r);
          expect(seg.length).toBe(sizes[i]);
          same(await seg.read(0, sizes[i]), src[i], `size ${sizes[i]} before seal`);
          const info = await seg.seal();
          expect(info.sealed).toBe(true);
          expect(info.length).toBe(sizes[i]);
          expect(info.pages).toBe(Math.ceil(sizes[i] / C));
          same(await seg.read(0, sizes[i]), src[i], `size ${sizes[i]} after seal`);
          await seg.close();
          ids.push(seg.id);
        }
        expect(new Set(ids.map(String)).size).toBe(ids.length);
        await db.write((tx) => {
          ids.forEach((id, i) => tx.segments.link(id, `size=${sizes[i]}`));
        });
        await db.close();

        const again = await open('rt', { cacheBytes: 1 << 20 });
        const list = await again.segments.list();
        expect(list.map((s) => s.id)).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
        for (let i = 0; i < sizes.length; i++) {
          const info = list.find((s) => s.id === ids[i]);
          expect(info.sealed).toBe(true);
          expect(info.linked).toBe(true);
          expect(info.length).toBe(sizes[i]);
          expect(info.realm).toBe(0);
          expect(new TextDecoder().decode(info.meta)).toBe(`size=${sizes[i]}`);
          // fs size: n data pages + the footer
          expect(await files.size('rt', segName(ids[i]))).toBe((Math.ceil(sizes[i] / C) + 1) * PAGE);
          const seg = await again.segments.open(ids[i], { verify: true });
          expect(seg.sealed).toBe(true);
          expect(seg.length).toBe(sizes[i]);
          same(await seg.read(0, sizes[i]), src[i], `size ${sizes[i]} after reopen`);
          expect(await seg.verify()).toBe(Math.ceil(sizes[i] / C) + 1);
          await seg.close();
        }
        await again.close();
      },
    },

    {
      name: 'answers random reads like the source, before and after sealing and after reopening',
      run: async () => {
        const r = rng(seed + 1);
        const src = r.bytes(3 * 1024 * 1024 + 999);
        const db = await open('rr', { cacheBytes: 1 << 20 });
        const seg = await db.segments.create();
        await appendPieces(seg, src, r);
        const check = async (s, what) => {
          for (let i = 0; i < 150; i++) {
            const off = r.int(src.length + 1);
            const len = i % 10 === 0 ? r.int(src.length - off + 1) : r.int(Math.min(3 * C, src.length - off) + 1);
            same(await s.read(off, len), src.subarray(off, off + len), `${what} read ${off}+${len}`);
          }
          // reads touching the end exactly, and beyond it
          same(await s.read(src.length - 1, 1), src.subarray(src.length - 1), `${what} last byte`);
          expect((await s.read(src.length, 0)).length).toBe(0);
          await rejectsWith(s.read(src.length - 10, 11), ErrorCode.EINVAL);
          await rejectsWith(s.read(-1, 1), ErrorCode.EINVAL);
        };
        await check(seg, 'unsealed');
        await seg.seal();
        await check(seg, 'sealed');
        await db.write((tx) => tx.segments.link(seg.id));
        await db.close();
        const again = await open('rr');
        const s2 = await again.segments.open(seg.id.toString()); // ids are accepted as decimal strings
        await check(s2, 'reopened');
        await again.close();
      },
    },

    {
      name: 'refuses appends to a sealed segment and a second seal with ESEALED',
      run: async () => {
        const db = await open('sealed');
        const seg = await db.segments.create();
        await seg.append('some bytes');
        await seg.seal();
        const e = await rejectsWith(seg.append('more'), ErrorCode.ESEALED);
        expect(e.codeName).toBe('PAGEDB_ESEALED');
        await rejectsWith(seg.seal(), ErrorCode.ESEALED);
        // an append issued right after seal() without awaiting it is refused too
        const other = await db.segments.create();
        await other.append('abc');
        const sealing = other.seal();
        const late = other.append('def');
        await sealing;
        await rejectsWith(late, ErrorCode.ESEALED);
        expect((await other.stat()).length).toBe(3);
        await other.close();
        await db.write((tx) => tx.segments.link(seg.id));
        await seg.close();
        // the engine refuses too: an append handle on a sealed segment
        await rejectsWith(db.segments.open(seg.id, { append: true }), ErrorCode.ESEALED);
        // a read handle cannot append or seal
        const ro = await db.segments.open(seg.id);
        await rejectsWith(ro.append('x'), ErrorCode.EMISUSE);
        expect(new TextDecoder().decode(await ro.read(0, 10))).toBe('some bytes');
        await ro.close();
        await rejectsWith(ro.read(0, 1), ErrorCode.EMISUSE);
        await db.close();
      },
    },

    {
      name: 'an engine error on buffered appends rejects the call that sends them',
      run: async () => {
        const db = await open('late');
        const seg = await db.segments.create();
        await seg.append('first');
        await seg.sync();
        await db.write((tx) => tx.segments.link(seg.id));
        await seg.append('buffered, not yet sent'); // stays in the 1 MiB buffer
        await db.write((tx) => tx.segments.unlink(seg.id)); // the commit deletes the segment
        const e = await rejectsWith(seg.sync(), ErrorCode.ENOTFOUND);
        expect(e.message).toMatch(/deleted/);
        await rejectsWith(seg.append('x'.repeat(SEGMENT_BATCH_BYTES)), ErrorCode.ENOTFOUND); // sent at once
        await seg.close().catch(() => undefined);
        await db.close();
      },
    },

    {
      name: 'links in a write transaction: metadata, unsealed synced bytes, visibility, list',
      run: async () => {
        const r = rng(seed + 2);
        const db = await open('link');
        const a = await db.segments.create();
        const b = await db.segments.create();
        const c = await db.segments.create(); // never linked: gone after reopen
        const da = r.bytes(10_000), db_ = r.bytes(C * 3), dc = r.bytes(500);
        await a.append(da);
        await a.sync(); // linked unsealed: synced bytes survive
        await b.append(db_);
        await b.seal();
        await c.append(dc);
        await c.sync();
        expect(await db.segments.list()).toEqual([]); // nothing linked yet
        expect(await db.segments.get(a.id)).toBeUndefined();
        await db.write(async (tx) => {
          tx.segments.link(a.id, new Uint8Array([1, 2, 3]));
          tx.segments.link(b.id, 'sealed one');
          // the transaction sees its own links
          const inside = await tx.segments.list();
          expect(inside.map((s) => s.id)).toEqual([a.id, b.id]);
          expect((await tx.segments.get(b.id))?.sealed).toBe(true);
          tx.table('t').put('k', 'v'); // puts and links in one commit
        });
        // an aborted link leaves nothing
        await expect(db.write((tx) => {
          tx.segments.link(c.id, 'no');
          throw new Error('abort');
        })).rejects.toThrow('abort');
        expect((await db.segments.list()).map((s) => s.id)).toEqual([a.id, b.id]);
        // linking with no meta keeps the metadata; with meta replaces it
        await db.write((tx) => tx.segments.link(a.id));
        expect([...(await db.segments.get(a.id)).meta]).toEqual([1, 2, 3]);
        // a read transaction cannot link
        await rejectsWith(db.read((tx) => (tx.segments ).link(a.id)), ErrorCode.EMISUSE);
        // linking an unknown id fails the write with ENOTFOUND
        await rejectsWith(db.write((tx) => tx.segments.link(999_999n)), ErrorCode.ENOTFOUND);
        await rejectsWith(db.write((tx) => tx.segments.link('x' )), ErrorCode.EINVAL);
        await db.close(); // closes a, b and c (staged tails written)

        expect(await files.exists('link', segName(c.id))).toBe(true);
        const again = await open('link');
        expect(await files.exists('link', segName(c.id))).toBe(false); // unlinked: deleted at open
        await rejectsWith(again.segments.open(c.id), ErrorCode.ENOTFOUND);
        const list = await again.segments.list();
        expect(list.map((s) => [s.id, s.sealed, s.length])).toEqual([[a.id, false, da.length], [b.id, true, db_.length]]);
        expect(new TextDecoder().decode(list[1].meta)).toBe('sealed one');
        expect(new TextDecoder().decode(await again.read((tx) => tx.table('t').get('k')))).toBe('v');
        const ra = await again.segments.open(a.id);
        same(await ra.read(0, da.length), da, 'linked unsealed segment after reopen');
        await ra.close();
        // appending to the linked unsealed segment continues where it ended
        const wa = await again.segments.open(a.id, { append: true });
        expect(wa.length).toBe(da.length);
        await wa.append('tail');
        await wa.seal();
        await again.write((tx) => tx.segments.link(a.id));
        expect((await again.segments.get(a.id)).length).toBe(da.length + 4);
        expect(new TextDecoder().decode(await wa.read(da.length, 4))).toBe('tail');
        await again.close();
      },
    },

    {
      name: 'deletes unlinked segments at once and linked ones transactionally',
      run: async () => {
        const db = await open('del');
        const loose = await db.segments.create();
        await loose.append('x'.repeat(9000));
        await rejectsWith(db.segments.delete(loose.id), ErrorCode.EBUSY); // its handle is open
        await loose.close();
        expect(await files.exists('del', segName(loose.id))).toBe(true);
        await db.segments.delete(loose.id);
        expect(await files.exists('del', segName(loose.id))).toBe(false);
        await rejectsWith(db.segments.open(loose.id), ErrorCode.ENOTFOUND);
        await rejectsWith(db.segments.delete(loose.id), ErrorCode.ENOTFOUND);

        const kept = await db.segments.create();
        await kept.append('keep me');
        await kept.seal();
        const linked = await db.segments.create();
        await linked.append('y'.repeat(20000));
        await linked.seal();
        await db.write((tx) => {
          tx.segments.link(kept.id);
          tx.segments.link(linked.id);
        });
        await linked.close();
        await db.segments.delete(linked.id); // unlink + commit
        expect(await files.exists('del', segName(linked.id))).toBe(false);
        expect((await db.segments.list()).map((s) => s.id)).toEqual([kept.id]);
        // the open handle on a segment unlinked by a transaction fails with ENOTFOUND
        await db.write((tx) => tx.segments.unlink(kept.id));
        await rejectsWith(kept.read(0, 4), ErrorCode.ENOTFOUND);
        await kept.close().catch(() => undefined);
        expect(await files.exists('del', segName(kept.id))).toBe(false);
        expect(await db.segments.list()).toEqual([]);
        await rejectsWith(db.write((tx) => tx.segments.unlink(kept.id)), ErrorCode.ENOTFOUND);
        await db.close();
        const again = await open('del');
        expect(await again.segments.list()).toEqual([]);
        expect(await files.list('del')).toEqual(['main.pdb']);
        await again.close();
      },
    },

    {
      name: 'detects a tampered data page, footer or truncation (EAUTH/ECORRUPT, never wrong bytes)',
      run: async () => {
        const r = rng(seed + 3);
        const src = r.bytes(C * 6 + 100);
        const db = await open('tamper');
        const seg = await db.segments.create();
        await seg.append(src);
        await seg.seal();
        await db.write((tx) => tx.segments.link(seg.id));
        await db.close();
        const file = segName(seg.id);
        const pristine = await files.read('tamper', file);
        const flip = async (at) => {
          const b = pristine.slice();
          b[at] ^= 0x20;
          await files.write('tamper', file, b);
        };

        // a payload byte of data page 2
        await flip(2 * PAGE + 500);
        let d = await open('tamper');
        let s = await d.segments.open(seg.id);
        same(await s.read(0, C), src.subarray(0, C), 'untouched page 0');
        const e = await rejectsWith(s.read(2 * C + 10, 5), ErrorCode.EAUTH, ErrorCode.ECORRUPT);
        expect(e.message).toMatch(/page 2/);
        await rejectsWith(s.read(0, src.length), ErrorCode.EAUTH, ErrorCode.ECORRUPT);
        await rejectsWith(s.verify(), ErrorCode.EAUTH, ErrorCode.ECORRUPT);
        await s.close();
        await rejectsWith(d.segments.open(seg.id, { verify: true }), ErrorCode.EAUTH, ErrorCode.ECORRUPT);
        await d.close();

        // a header byte (the realm field) of data page 0
        await flip(4);
        d = await open('tamper');
        s = await d.segments.open(seg.id);
        await rejectsWith(s.read(0, 1), ErrorCode.EAUTH, ErrorCode.ECORRUPT);
        await s.close();
        await d.close();

        // the footer: opening the sealed segment authenticates it
        await flip(7 * PAGE + 70);
        d = await open('tamper');
        await rejectsWith(d.segments.open(seg.id), ErrorCode.EAUTH, ErrorCode.ECORRUPT);
        await d.close();

        // truncated by a page
        await files.write('tamper', file, pristine.subarray(0, pristine.length - PAGE));
        d = await open('tamper');
        await rejectsWith(d.segments.open(seg.id), ErrorCode.EAUTH, ErrorCode.ECORRUPT);
        await d.close();

        // restored: everything reads again
        await files.write('tamper', file, pristine);
        d = await open('tamper');
        s = await d.segments.open(seg.id, { verify: true });
        same(await s.read(0, src.length), src, 'restored');
        await d.close();
      },
    },

    {
      name: 'appends a ReadableStream with bounded buffering, and stops on a stream error',
      run: async () => {
        const r = rng(seed + 4);
        const total = 4 * 1024 * 1024 + 777;
        const src = r.bytes(total);
        const db = await open('stream');
        const seg = await db.segments.create();
        let produced = 0, maxAhead = 0, pulls = 0;
        const chunkSizes = [1, 333, 8192, 65536, 300_000];
        const stream = new ReadableStream({
          pull(ctl) {
            pulls++;
            // bytes handed to the stream but not yet taken by append()
            maxAhead = Math.max(maxAhead, produced - seg.length);
            if (produced >= total) return ctl.close();
            const n = Math.min(total - produced, chunkSizes[r.int(chunkSizes.length)]);
            ctl.enqueue(src.slice(produced, produced + n));
            produced += n;
      },
    }, { highWaterMark: 1 });
        const n = await seg.appendStream(stream);
        expect(n).toBe(total);
        expect(pulls).toBeGreaterThan(20);
        // the source is pulled one chunk ahead at most (plus the queued one): never the whole stream
        expect(maxAhead).toBeLessThanOrEqual(2 * 300_000);
        await seg.seal();
        same(await seg.read(0, total), src, 'streamed segment');

        // an async iterable works too
        const seg2 = await db.segments.create();
        async function* gen() {
          for (let off = 0; off < 100_000; off += 9999) yield src.slice(off, Math.min(100_000, off + 9999));
        }
        expect(await seg2.appendStream(gen())).toBe(100_000);
        same(await seg2.read(0, 100_000), src.subarray(0, 100_000), 'iterable');

        // a failing stream: appendStream rejects with the stream's error, earlier bytes stay
        const seg3 = await db.segments.create();
        let k = 0;
        const bad = new ReadableStream({
          pull(ctl) {
            if (k++ < 3) ctl.enqueue(new Uint8Array(1000).fill(k));
            else ctl.error(new Error('network down'));
      },
        });
        await expect(seg3.appendStream(bad)).rejects.toThrow('network down');
        expect((await seg3.stat()).length).toBe(3000);
        // a sealed segment rejects the stream with ESEALED and cancels it
        let cancelled = false;
        const never = new ReadableStream({
          pull(ctl) { ctl.enqueue(new Uint8Array(10)); },
          cancel() { cancelled = true; },
        });
        await rejectsWith(seg.appendStream(never), ErrorCode.ESEALED);
        expect(cancelled).toBe(true);
        await db.close();
      },
    },

    {
      name: 'writes several segments concurrently through the promise API',
      run: async () => {
        const r = rng(seed + 5);
        const N = 6;
        const src = Array.from({ length: N }, (_, i) => r.bytes(300_000 + i * 250_000));
        const db = await open('par', { cacheBytes: 1 << 20 });
        const segs = await Promise.all(src.map(() => db.segments.create()));
        // interleave: every writer appends its next piece without waiting for the others
        await Promise.all(segs.map(async (seg, i) => {
          const rr = rng(seed + 100 + i);
          for (let off = 0; off < src[i].length;) {
            const n = Math.min(src[i].length - off, 1 + rr.int(40_000));
            await seg.append(src[i].subarray(off, off + n));
            off += n;
            if (rr.int(50) === 0) await seg.sync();
          }
          await seg.seal();
        }));
        // while a write transaction commits table data
        await db.write((tx) => {
          for (let i = 0; i < 2000; i++) tx.table('rows').put(`r${i}`, `v${i}`);
          segs.forEach((s, i) => tx.segments.link(s.id, `writer ${i}`));
        });
        await Promise.all(segs.map((s) => s.close()));
        await db.close();
        const again = await open('par');
        const list = await again.segments.list();
        expect(list.length).toBe(N);
        for (let i = 0; i < N; i++) {
          const seg = await again.segments.open(segs[i].id, { verify: true });
          same(await seg.read(0, src[i].length), src[i], `writer ${i}`);
          expect(new TextDecoder().decode(list.find((x) => x.id === segs[i].id).meta)).toBe(`writer ${i}`);
        }
        await again.close();
      },
    },

    {
      name: 'batches small appends: nothing reaches the engine until a batch fills or an op sends it',
      run: async () => {
        const db = await open('batch');
        const seg = await db.segments.create();
        const before = (await db.stat()).bytesWritten;
        const piece = new Uint8Array(100).fill(0x5a);
        // 600 KB in 100-byte appends: the engine would have written full pages by now
        // (it writes batches of full pages at 256 KiB) had each append been sent
        for (let i = 0; i < 6000; i++) await seg.append(piece);
        expect((await db.stat()).bytesWritten).toBe(before);
        expect(seg.length).toBe(600_000);
        await seg.sync();
        const after = (await db.stat()).bytesWritten;
        expect(after - before).toBeGreaterThanOrEqual(Math.ceil(600_000 / C) * PAGE);
        // crossing the batch size sends a batch by itself
        for (let i = 0; i < (SEGMENT_BATCH_BYTES / 100) + 10; i++) await seg.append(piece);
        expect((await db.stat()).bytesWritten).toBeGreaterThan(after);
        same(await seg.read(600_000 - 50, 100), new Uint8Array(100).fill(0x5a), 'across the batches');
        await db.close();
      },
    },

    {
      name: 'accepts ids as bigint, safe integer or decimal string, and rejects bad ones',
      run: async () => {
        const db = await open('ids');
        const seg = await db.segments.create();
        await seg.append('x');
        await seg.seal();
        await db.write((tx) => tx.segments.link(seg.id));
        for (const id of [seg.id, Number(seg.id), seg.id.toString()]) {
          const s = await db.segments.open(id);
          expect(s.id).toBe(seg.id);
          await s.close();
        }
        for (const bad of [0, -1, 1.5, 'abc', '0x10', 2n ** 64n, Number.MAX_SAFE_INTEGER + 2]) {
          await rejectsWith(db.segments.open(bad ), ErrorCode.EINVAL);
        }
        await rejectsWith(db.segments.create(77), ErrorCode.ENOTFOUND); // no such realm
        await db.close();
        await rejectsWith(db.segments.create(), ErrorCode.EMISUSE);
      },
    },

  ];
}
