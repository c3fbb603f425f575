// workload.mjs — the benchmark workload in JavaScript, byte for byte the same as
// bench/workload.c (see bench/workload.h): splitmix64 as a counter-based stream, keys of 24
// bytes (outputs 3i..3i+2 of the stream seeded 0x5EED5EED5EED5EEE, little-endian), values of
// 150 bytes (the first 150 bytes of outputs 19i..19i+18 of the stream seeded
// 0x5EED5EED5EED5EEF), and pick(r) = output r of the stream seeded 0x5EED5EED5EED5EF0 mod total.
// Runs in browsers (page and workers) and in node.
export const KEY_BYTES = 24;
export const VAL_BYTES = 150;
const M = (1n << 64n) - 1n;
const SEED_KEYS = 0x5eed5eed5eed5eeen;
const SEED_VALS = 0x5eed5eed5eed5eefn;
const SEED_PICK = 0x5eed5eed5eed5ef0n;

/** Output j of the splitmix64 stream seeded seed (BigInt in, BigInt out). */
export function splitmix(seed, j) {
  let z = (seed + (BigInt(j) + 1n) * 0x9e3779b97f4a7c15n) & M;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
  return z ^ (z >> 31n);
}

function fill(seed, first, words, out, len) {
  const buf = new Uint8Array(words * 8);
  const dv = new DataView(buf.buffer);
  for (let w = 0; w < words; w++) dv.setBigUint64(8 * w, splitmix(seed, first + w), true);
  out.set(buf.subarray(0, len));
  return out;
}

/** Key i (24 bytes). */
export function key(i) {
  return fill(SEED_KEYS, 3 * i, 3, new Uint8Array(KEY_BYTES), KEY_BYTES);
}

/** Value i (150 bytes). */
export function val(i) {
  return fill(SEED_VALS, 19 * i, 19, new Uint8Array(VAL_BYTES), VAL_BYTES);
}

/** Key index of random read/range number r among the first total keys. */
export function pick(r, total) {
  return Number(splitmix(SEED_PICK, r) % BigInt(total));
}

/** Phase sizes; the defaults are bench/workload.h's, the browser run may reduce the write phases. */
export function phases(n, o = {}) {
  const individual = o.individual ?? 1000, batches = o.batches ?? 100, batchSize = o.batchSize ?? 1000;
  return { n, individual, batches, batchSize, ranges: o.ranges ?? 100000, rangeLen: o.rangeLen ?? 10,
    reads: o.reads ?? n, removals: Math.floor(n / 2), total: n + individual + batches * batchSize };
}

/**
 * Everything one run needs, precomputed before timing: keys[i] and vals[i] for every key index,
 * readIdx[r] (random reads) and rangeIdx[r] (range starts). The read picks use total =
 * N + 101000 like the C suite only when the write phases have their default sizes; otherwise
 * total = the number of keys actually written (so every pick exists).
 */
export function prepare(p) {
  const keys = new Array(p.total), vals = new Array(p.total);
  for (let i = 0; i < p.total; i++) { keys[i] = key(i); vals[i] = val(i); }
  const readIdx = new Uint32Array(p.reads), rangeIdx = new Uint32Array(p.ranges);
  for (let r = 0; r < p.reads; r++) readIdx[r] = pick(r, p.total);
  for (let r = 0; r < p.ranges; r++) rangeIdx[r] = pick(p.n + r, p.total);
  return { keys, vals, readIdx, rangeIdx };
}

export const hex = (u) => Array.from(u, (b) => b.toString(16).padStart(2, '0')).join('');

export function equal(a, b) {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Byte-wise compare (memcmp order), for the sorted key list of the range check. */
export function compare(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
