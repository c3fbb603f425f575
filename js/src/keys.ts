/**
 * keys.ts — order-preserving key encodings.
 *
 * pagedb orders keys bytewise: unsigned byte by byte, and a key that is a prefix of
 * another sorts first ('a' < 'ab' < 'b'; strings are compared as their UTF-8 bytes, which
 * is code point order). Numbers written as decimal text or little-endian bytes do not sort
 * by value ('10' < '9'), so these helpers turn values into bytes whose bytewise order is
 * the values' order:
 *
 *   keys.float64(x)      8 bytes; every number incl. -Infinity, -0, +0, Infinity, NaN last
 *   keys.int64(v)        8 bytes; a signed 64-bit integer (bigint or safe-integer number)
 *   keys.uint32(n)       4 bytes big-endian; 0..2^32-1
 *   keys.pack([...])     a tuple of null, booleans, numbers, bigints, strings, bytes and
 *                        nested tuples; tuples sort element by element, shorter first
 *   keys.unpack(bytes)   the tuple back
 *   keys.concat(...)     join encoded parts (their order is kept when every part but the
 *                        last has a fixed length or is self-delimiting, like pack's output)
 *
 *   // notes by (folder, time): all of one folder, in time order
 *   t.put(keys.pack(['inbox', Date.now()]), note);
 *   db.iterate('notes', { prefix: keys.pack(['inbox']) });
 *
 * The tuple encoding follows the design of FoundationDB's tuple layer (typecode byte per
 * element, 0x00-terminated strings with 0x00 escaped as 0x00 0xff, big-endian integers with
 * a length in the typecode, IEEE-754 doubles with the sign bit flipped or all bits
 * inverted for negatives; https://github.com/apple/foundationdb/blob/main/design/tuple.md),
 * written for this package; its bytes match that specification for the types both have,
 * except that a JavaScript number is always encoded as a double (typecode 0x21) so that all
 * numbers sort together, and integers are given as bigints (typecodes 0x0c..0x1c, at most
 * 8 bytes of magnitude: -2^64+1 .. 2^64-1).
 *
 * Order between types follows the typecode: null < bytes < string < nested tuple <
 * bigint < number < false < true. The packed form of a tuple is a byte prefix of the packed
 * form of every longer tuple that starts with it, so `prefix: keys.pack(head)` ranges over
 * every tuple starting with `head`.
 *
 * Every function is pure and thread-safe; returned arrays are new and owned by the caller.
 * Errors: PagedbError EINVAL for values of other types, out-of-range integers, and (unpack)
 * bytes that are not a packed tuple.
 */
import { PagedbError, ErrorCode } from './errors.js';

/** One element of a tuple given to {@link pack}. */
export type TupleElement = null | boolean | number | bigint | string | Uint8Array | TupleElement[];
/** An element as {@link unpack} returns it (integers are bigints, numbers are doubles). */
export type TupleValue = null | boolean | number | bigint | string | Uint8Array | TupleValue[];

const T_NULL = 0x00, T_BYTES = 0x01, T_STRING = 0x02, T_NESTED = 0x05, T_INT_ZERO = 0x14, T_DOUBLE = 0x21,
  T_FALSE = 0x26, T_TRUE = 0x27;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

function bad(msg: string): PagedbError {
  return new PagedbError(ErrorCode.EINVAL, msg);
}

/** The 8 big-endian IEEE-754 bytes of x, transformed so that bytewise order is numeric order. */
function floatBytes(x: number, out: Uint8Array, at: number): void {
  const dv = new DataView(out.buffer, out.byteOffset + at, 8);
  dv.setFloat64(0, Number.isNaN(x) ? NaN : x); // one canonical NaN, sorting after Infinity
  if (out[at] & 0x80) for (let i = 0; i < 8; i++) out[at + i] ^= 0xff; // negative: invert all
  else out[at] ^= 0x80; // positive (incl. +0): flip the sign bit
}

function floatFrom(b: Uint8Array, at: number): number {
  const c = b.slice(at, at + 8);
  if (c[0] & 0x80) c[0] ^= 0x80;
  else for (let i = 0; i < 8; i++) c[i] ^= 0xff;
  return new DataView(c.buffer).getFloat64(0);
}

/**
 * 8 bytes whose bytewise order is the numeric order of `x` (any number: -Infinity < ...
 * < -0 < +0 < ... < Infinity < NaN; every NaN encodes alike). Throws EINVAL for a non-number.
 */
export function float64(x: number): Uint8Array {
  if (typeof x !== 'number') throw bad(`keys.float64: expected a number, got ${typeof x}`);
  const out = new Uint8Array(8);
  floatBytes(x, out, 0);
  return out;
}

/** The number encoded by {@link float64} (8 bytes; EINVAL otherwise). */
export function readFloat64(b: Uint8Array): number {
  if (!(b instanceof Uint8Array) || b.length !== 8) throw bad('keys.readFloat64: expected 8 bytes');
  return floatFrom(b, 0);
}

const I64_MIN = -(1n << 63n), I64_MAX = (1n << 63n) - 1n;

function toBigInt(v: bigint | number, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw bad(`${what}: expected a bigint or a safe integer, got ${String(v)}`);
}

/**
 * 8 big-endian bytes of the signed 64-bit integer `v` with the sign bit flipped, so
 * bytewise order is numeric order. Throws EINVAL outside -2^63..2^63-1 or for a number
 * that is not a safe integer.
 */
export function int64(v: bigint | number): Uint8Array {
  const b = toBigInt(v, 'keys.int64');
  if (b < I64_MIN || b > I64_MAX) throw bad(`keys.int64: ${b} outside -2^63..2^63-1`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, b) ^ (1n << 63n));
  return out;
}

/** The integer encoded by {@link int64}, as a bigint (8 bytes; EINVAL otherwise). */
export function readInt64(b: Uint8Array): bigint {
  if (!(b instanceof Uint8Array) || b.length !== 8) throw bad('keys.readInt64: expected 8 bytes');
  return BigInt.asIntN(64, new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0) ^ (1n << 63n));
}

/** 4 big-endian bytes of `n` (an integer 0..2^32-1; EINVAL otherwise). */
export function uint32(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw bad(`keys.uint32: ${String(n)} is not an integer in 0..2^32-1`);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** The integer encoded by {@link uint32} (4 bytes; EINVAL otherwise). */
export function readUint32(b: Uint8Array): number {
  if (!(b instanceof Uint8Array) || b.length !== 4) throw bad('keys.readUint32: expected 4 bytes');
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
}

/** The concatenation of `parts` (strings UTF-8 encoded) in a new array. */
export function concat(...parts: (Uint8Array | string)[]): Uint8Array {
  const bs = parts.map((p) => {
    if (typeof p === 'string') return enc.encode(p);
    if (p instanceof Uint8Array) return p;
    throw bad('keys.concat: parts must be Uint8Arrays or strings');
  });
  const out = new Uint8Array(bs.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bs) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** Bytes with every 0x00 followed by 0xff, then a 0x00 terminator. */
function escaped(code: number, b: Uint8Array, out: number[]): void {
  out.push(code);
  for (const x of b) {
    out.push(x);
    if (x === 0) out.push(0xff);
  }
  out.push(0x00);
}

function packInto(t: readonly TupleElement[], out: number[], nested: boolean, depth: number): void {
  if (depth > 64) throw bad('keys.pack: tuples nested deeper than 64');
  for (const e of t) {
    if (e === null) {
      out.push(T_NULL);
      if (nested) out.push(0xff); // inside a nested tuple, null must not look like its end
    } else if (e === false) out.push(T_FALSE);
    else if (e === true) out.push(T_TRUE);
    else if (typeof e === 'number') {
      const b = new Uint8Array(8);
      floatBytes(e, b, 0);
      out.push(T_DOUBLE, ...b);
    } else if (typeof e === 'bigint') {
      if (e === 0n) {
        out.push(T_INT_ZERO);
        continue;
      }
      const neg = e < 0n;
      let mag = neg ? -e : e;
      if (mag >= 1n << 64n) throw bad(`keys.pack: integer ${e} outside -2^64+1..2^64-1`);
      const bytes: number[] = [];
      for (; mag > 0n; mag >>= 8n) bytes.unshift(Number(mag & 0xffn));
      if (neg) {
        // one's complement of the magnitude: larger magnitudes sort first
        out.push(T_INT_ZERO - bytes.length, ...bytes.map((x) => x ^ 0xff));
      } else out.push(T_INT_ZERO + bytes.length, ...bytes);
    } else if (typeof e === 'string') escaped(T_STRING, enc.encode(e), out);
    else if (e instanceof Uint8Array) escaped(T_BYTES, e, out);
    else if (Array.isArray(e)) {
      out.push(T_NESTED);
      packInto(e, out, true, depth + 1);
      out.push(0x00);
    } else throw bad(`keys.pack: cannot encode a ${e === undefined ? 'undefined' : typeof e} (null, boolean, number, bigint, string, Uint8Array or array)`);
  }
}

/**
 * Encode a tuple as bytes whose bytewise order is the tuples' order (element by element;
 * a tuple sorts before every longer tuple it starts). Elements: null, booleans, numbers
 * (as doubles), bigints (-2^64+1..2^64-1), strings (UTF-8), Uint8Arrays and nested arrays.
 * Throws PagedbError EINVAL for anything else (undefined, objects, out-of-range bigints).
 */
export function pack(tuple: readonly TupleElement[]): Uint8Array {
  if (!Array.isArray(tuple)) throw bad('keys.pack: expected an array');
  const out: number[] = [];
  packInto(tuple, out, false, 0);
  return Uint8Array.from(out);
}

/** Read an escaped byte string starting at b[at]; returns it and the index after its terminator. */
function unescape(b: Uint8Array, at: number): [Uint8Array, number] {
  const out: number[] = [];
  for (let i = at; i < b.length; i++) {
    if (b[i] !== 0) {
      out.push(b[i]);
      continue;
    }
    if (b[i + 1] === 0xff) {
      out.push(0);
      i++;
      continue;
    }
    return [Uint8Array.from(out), i + 1];
  }
  throw bad('keys.unpack: unterminated string');
}

function unpackFrom(b: Uint8Array, at: number, nested: boolean, depth: number): [TupleValue[], number] {
  if (depth > 64) throw bad('keys.unpack: tuples nested deeper than 64');
  const out: TupleValue[] = [];
  while (at < b.length) {
    const code = b[at++];
    if (code === T_NULL) {
      if (!nested) out.push(null);
      else if (b[at] === 0xff) {
        out.push(null);
        at++;
      } else return [out, at]; // end of the nested tuple
    } else if (code === T_FALSE) out.push(false);
    else if (code === T_TRUE) out.push(true);
    else if (code === T_DOUBLE) {
      if (at + 8 > b.length) throw bad('keys.unpack: truncated number');
      out.push(floatFrom(b, at));
      at += 8;
    } else if (code >= T_INT_ZERO - 8 && code <= T_INT_ZERO + 8) {
      const n = Math.abs(code - T_INT_ZERO), neg = code < T_INT_ZERO;
      if (at + n > b.length) throw bad('keys.unpack: truncated integer');
      let v = 0n;
      for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(neg ? b[at + i] ^ 0xff : b[at + i]);
      out.push(neg ? -v : v);
      at += n;
    } else if (code === T_BYTES || code === T_STRING) {
      const [s, next] = unescape(b, at);
      if (code === T_BYTES) out.push(s);
      else {
        try {
          out.push(dec.decode(s));
        } catch {
          throw bad('keys.unpack: a string element is not valid UTF-8');
        }
      }
      at = next;
    } else if (code === T_NESTED) {
      const [t, next] = unpackFrom(b, at, true, depth + 1);
      if (next > b.length || b[next - 1] !== 0x00) throw bad('keys.unpack: unterminated nested tuple');
      out.push(t);
      at = next;
    } else throw bad(`keys.unpack: unknown type code 0x${code.toString(16).padStart(2, '0')} at byte ${at - 1}`);
  }
  if (nested) throw bad('keys.unpack: unterminated nested tuple');
  return [out, at];
}

/**
 * Decode bytes made by {@link pack}. Integers come back as bigints, numbers as numbers,
 * strings as strings, bytes as new Uint8Arrays. Throws PagedbError EINVAL when `bytes` is
 * not a packed tuple (unknown type code, truncated element, invalid UTF-8).
 */
export function unpack(bytes: Uint8Array): TupleValue[] {
  if (!(bytes instanceof Uint8Array)) throw bad('keys.unpack: expected a Uint8Array');
  return unpackFrom(bytes, 0, false, 0)[0];
}

/**
 * Compare two keys the way pagedb orders them: bytewise, unsigned, a prefix first.
 * Returns a negative number, 0 or a positive number. Useful to sort keys in JavaScript
 * exactly as a range returns them.
 */
export function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
