/**
 * validate.ts — argument checks of the public API, shared by the promise API (database.ts),
 * the synchronous API (engine.ts) and the entry points. Plain JavaScript callers can pass
 * anything, so every public call checks its arguments before anything is queued or sent:
 * a wrong argument throws (or rejects with) PagedbError EINVAL naming the argument, and
 * nothing has been written.
 *
 * Options objects are checked key by key against the lists below; an unknown key is an
 * error too (a misspelt `readonly` must not silently open read-write). A module that adds
 * an option adds its name (and check) here.
 */
import { PagedbError, ErrorCode } from './errors.js';
import type { OpenOptions, RangeOptions, SegmentOpenOptions } from './types.js';

const enc = new TextEncoder();

/** A short description of a value for error messages (never its contents). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `a ${(v as object).constructor?.name ?? 'object'}`;
  if (typeof v === 'string') return 'a string';
  return `${typeof v} ${String(v)}`.slice(0, 60);
}

/** PagedbError EINVAL `${what} ${problem}`. */
export function invalid(what: string, problem: string): PagedbError {
  return new PagedbError(ErrorCode.EINVAL, `${what} ${problem}`);
}

/**
 * The bytes of `b`: a string is UTF-8 encoded (a new array); a Uint8Array is returned as
 * it is; any other ArrayBufferView (DataView, Uint16Array, Float64Array, Buffer...) is
 * viewed byte for byte as a Uint8Array over the same memory (its byteOffset and
 * byteLength, in the platform's byte order); an ArrayBuffer or SharedArrayBuffer is
 * viewed whole. No copy is made except for strings. Throws PagedbError EINVAL naming
 * `what` for anything else (null, undefined, numbers, booleans, plain objects, arrays).
 */
export function bytesArg(b: unknown, what: string): Uint8Array {
  if (typeof b === 'string') return enc.encode(b);
  if (b instanceof Uint8Array) return b;
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (typeof SharedArrayBuffer !== 'undefined' && b instanceof SharedArrayBuffer) return new Uint8Array(b);
  throw invalid(what, `must be a string, an ArrayBuffer or an ArrayBufferView (e.g. Uint8Array), not ${describe(b)}`);
}

/** A table name: a string without NUL characters (the engine checks 1..255 UTF-8 bytes). */
export function tableName(name: unknown, what = 'table name'): string {
  if (typeof name !== 'string') throw invalid(what, `must be a string, not ${describe(name)}`);
  if (name.includes('\0')) throw invalid(what, 'must not contain NUL characters');
  return name;
}

/** A callback argument (db.write, db.read). */
export function fnArg(fn: unknown, what: string): void {
  if (typeof fn !== 'function') throw invalid(what, `must be a function, not ${describe(fn)}`);
}

/** A non-negative safe integer; `max` inclusive. */
export function uintArg(v: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max)
    throw invalid(what, `must be an integer from 0 to ${max}, not ${describe(v)}`);
  return v;
}

function boolArg(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw invalid(what, `must be true or false, not ${describe(v)}`);
  return v;
}

function optionsObject(o: unknown, what: string): Record<string, unknown> {
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw invalid(what, `must be an object, not ${describe(o)}`);
  return o as Record<string, unknown>;
}

function unknownKeys(o: Record<string, unknown>, known: readonly string[], what: string): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw invalid(what, `has an unknown option "${k}" (known: ${known.join(', ')})`);
}

/**
 * Check db.compact()/db.rekey() options: an object whose keys are among `known`,
 * `signal` and `onProgress` (a function when present). Throws PagedbError EINVAL.
 */
export function maintOptions<T extends { onProgress?: unknown }>(opts: unknown, known: string[]): T {
  const o = optionsObject(opts, 'options');
  unknownKeys(o, [...known, 'signal', 'onProgress'], 'options');
  if (o.onProgress !== undefined) fnArg(o.onProgress, 'options.onProgress');
  return o as T;
}

/** Names accepted in OpenOptions. */
export const OPEN_OPTION_NAMES = [
  'key', 'passphrase', 'cacheBytes', 'pageSize', 'cipher', 'create', 'readOnly', 'pwhashOpsLimit', 'pwhashMemLimit',
  'testSeed', 'allowDeterministic', 'directory', 'testFaults',
] as const;

/** Names accepted in RangeOptions. */
export const RANGE_OPTION_NAMES = ['gte', 'lt', 'prefix', 'reverse', 'limit'] as const;

const CIPHER_NAMES = ['xchacha20poly1305', 'aes256gcm', 'none'];

/**
 * A checked copy of open()'s options: `key` and `testSeed` become Uint8Arrays (copies) of
 * exactly 32 bytes; exactly one of key/passphrase; numbers are non-negative integers
 * (pageSize: a power of two from 4096 to 65536); booleans are booleans; `cipher` is a
 * known name; `directory` a string; no unknown option. Throws PagedbError EINVAL.
 */
export function openOptions(opts: unknown): OpenOptions {
  const o = optionsObject(opts, 'options');
  unknownKeys(o, OPEN_OPTION_NAMES, 'options');
  const out: OpenOptions = {};
  const has = (k: string) => o[k] !== undefined;
  if (has('key') && has('passphrase')) throw invalid('options', 'take a key or a passphrase, not both');
  if (!has('key') && !has('passphrase')) throw invalid('options', 'need a key (32 bytes) or a passphrase');
  if (has('key')) {
    const k = bytesArg(o.key, 'options.key');
    if (typeof o.key === 'string') throw invalid('options.key', 'must be 32 bytes, not a string (use passphrase for text)');
    if (k.length !== 32) throw invalid('options.key', `must be 32 bytes, not ${k.length}`);
    out.key = k.slice();
  }
  if (has('passphrase')) {
    if (typeof o.passphrase !== 'string') throw invalid('options.passphrase', `must be a string, not ${describe(o.passphrase)}`);
    out.passphrase = o.passphrase;
  }
  if (has('cacheBytes')) out.cacheBytes = uintArg(o.cacheBytes, 'options.cacheBytes');
  if (has('pageSize')) {
    const p = uintArg(o.pageSize, 'options.pageSize');
    if (p < 4096 || p > 65536 || (p & (p - 1)) !== 0)
      throw invalid('options.pageSize', `must be a power of two from 4096 to 65536, not ${p}`);
    out.pageSize = p;
  }
  if (has('cipher')) {
    if (typeof o.cipher !== 'string' || !CIPHER_NAMES.includes(o.cipher))
      throw invalid('options.cipher', `must be one of ${CIPHER_NAMES.join(', ')}, not ${describe(o.cipher)}`);
    out.cipher = o.cipher as OpenOptions['cipher'];
  }
  if (has('create')) out.create = boolArg(o.create, 'options.create');
  if (has('readOnly')) out.readOnly = boolArg(o.readOnly, 'options.readOnly');
  if (has('pwhashOpsLimit')) out.pwhashOpsLimit = uintArg(o.pwhashOpsLimit, 'options.pwhashOpsLimit');
  if (has('pwhashMemLimit')) out.pwhashMemLimit = uintArg(o.pwhashMemLimit, 'options.pwhashMemLimit');
  if (has('allowDeterministic')) out.allowDeterministic = boolArg(o.allowDeterministic, 'options.allowDeterministic');
  if (has('testSeed')) {
    const s = bytesArg(o.testSeed, 'options.testSeed');
    if (s.length !== 32) throw invalid('options.testSeed', `must be 32 bytes, not ${s.length}`);
    out.testSeed = s.slice();
  }
  if (has('testFaults')) {
    const f = optionsObject(o.testFaults, 'options.testFaults');
    unknownKeys(f, ['stallBeforeHeaderMs', 'stallAfterHeaderMs'], 'options.testFaults');
    out.testFaults = {};
    for (const k of ['stallBeforeHeaderMs', 'stallAfterHeaderMs'] as const)
      if (f[k] !== undefined) out.testFaults[k] = uintArg(f[k], `options.testFaults.${k}`);
  }
  if (has('directory')) {
    if (typeof o.directory !== 'string' || o.directory === '')
      throw invalid('options.directory', `must be a non-empty string, not ${describe(o.directory)}`);
    out.directory = o.directory;
  }
  return out;
}

/**
 * A database name: a non-empty string of at most 255 UTF-16 units, without NUL, without
 * "/" or "\" at either end or "." / ".." path parts for the browser (one OPFS directory
 * level, `nested` false), with path separators allowed under Node (`nested` true: a path
 * relative to options.directory, or absolute). Throws PagedbError EINVAL.
 */
export function databaseName(name: unknown, nested: boolean): string {
  if (typeof name !== 'string') throw invalid('database name', `must be a string, not ${describe(name)}`);
  if (name === '') throw invalid('database name', 'must not be empty');
  if (name.includes('\0')) throw invalid('database name', 'must not contain NUL characters');
  if (!nested) {
    if (name.length > 255) throw invalid('database name', 'must be at most 255 characters');
    if (/[/\\]/.test(name) || name === '.' || name === '..')
      throw invalid('database name', `"${name}" must be one directory name: no "/" or "\\", not "." or ".."`);
  }
  return name;
}

/**
 * A checked copy of a range: bounds as byte arrays (copied, strings UTF-8 encoded),
 * `reverse` a boolean, `limit` a non-negative safe integer (0: no entries); no unknown
 * option. Throws PagedbError EINVAL naming the option.
 */
export function rangeOptions(r: unknown): RangeOptions & { gte?: Uint8Array; lt?: Uint8Array; prefix?: Uint8Array } {
  if (r === undefined) return {};
  const o = optionsObject(r, 'range');
  unknownKeys(o, RANGE_OPTION_NAMES, 'range');
  const out: RangeOptions & { gte?: Uint8Array; lt?: Uint8Array; prefix?: Uint8Array } = {};
  if (o.gte !== undefined) out.gte = bytesArg(o.gte, 'range.gte').slice();
  if (o.lt !== undefined) out.lt = bytesArg(o.lt, 'range.lt').slice();
  if (o.prefix !== undefined) out.prefix = bytesArg(o.prefix, 'range.prefix').slice();
  if (o.reverse !== undefined) out.reverse = boolArg(o.reverse, 'range.reverse');
  if (o.limit !== undefined) out.limit = uintArg(o.limit, 'range.limit');
  return out;
}

/** A checked copy of segments.open()'s options (append, verify: booleans). */
export function segmentOpenOptions(opts: unknown): SegmentOpenOptions {
  if (opts === undefined) return {};
  const o = optionsObject(opts, 'segment open options');
  unknownKeys(o, ['append', 'verify'], 'segment open options');
  const out: SegmentOpenOptions = {};
  if (o.append !== undefined) out.append = boolArg(o.append, 'options.append');
  if (o.verify !== undefined) out.verify = boolArg(o.verify, 'options.verify');
  return out;
}
