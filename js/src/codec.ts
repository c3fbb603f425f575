/**
 * codec.ts — value codecs: how a table's values are turned into bytes and back.
 *
 *   'bytes'  (default) values are Uint8Arrays (strings and other byte views accepted on put)
 *   'utf8'   values are strings, stored as UTF-8
 *   'json'   values are anything JSON.stringify accepts, stored as UTF-8 JSON text
 *   { encode, decode }  your own (e.g. a MessagePack or CBOR library)
 *
 * A codec applies to values only; keys are always bytes (strings UTF-8 encoded) and
 * sorted bytewise (see keys.ts for order-preserving encodings of numbers and tuples).
 * The codec is chosen when the table is named (`db.table(name, { codec })`); it is not
 * recorded in the database, so every reader must name the same codec.
 */
import { PagedbError, ErrorCode } from './errors.js';

/** A custom codec. encode must return bytes; decode receives a Uint8Array owned by it. */
export interface Codec<T> {
  /** Value -> bytes. May throw; the error rejects the put (nothing is written). */
  encode(value: T): Uint8Array;
  /** Bytes -> value. May throw; the error rejects the read. */
  decode(bytes: Uint8Array): T;
}

/** A codec by name or a custom one. */
export type CodecSpec<T = unknown> = 'bytes' | 'utf8' | 'json' | Codec<T>;

/** The value type a codec spec produces. */
export type CodecValue<C> = C extends 'bytes' ? Uint8Array
  : C extends 'utf8' ? string
  : C extends 'json' ? unknown
  : C extends Codec<infer T> ? T
  : Uint8Array;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes of a value given to a 'bytes' table: a Uint8Array as is, any other ArrayBufferView
 * or an ArrayBuffer by its bytes (a view, not a copy), a string as UTF-8. Throws
 * PagedbError EINVAL naming `what` for anything else.
 */
export function valueBytes(v: unknown, what = 'value'): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return enc.encode(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer))
    return new Uint8Array(v as ArrayBuffer);
  throw new PagedbError(ErrorCode.EINVAL, `${what} must be bytes (a Uint8Array, another ArrayBufferView or an ArrayBuffer) or a string, got ${v === null ? 'null' : typeof v}`);
}

const BYTES: Codec<Uint8Array> = { encode: (v) => valueBytes(v), decode: (b) => b };
const UTF8: Codec<string> = {
  encode: (v) => {
    if (typeof v !== 'string') throw new PagedbError(ErrorCode.EINVAL, `a 'utf8' table's values must be strings, got ${v === null ? 'null' : typeof v}`);
    return enc.encode(v);
  },
  decode: (b) => {
    try {
      return dec.decode(b);
    } catch {
      throw new PagedbError(ErrorCode.EINVAL, "a value of a 'utf8' table is not valid UTF-8");
    }
  },
};
const JSON_CODEC: Codec<unknown> = {
  encode: (v) => {
    let s: string | undefined;
    try {
      s = JSON.stringify(v);
    } catch (e) {
      throw new PagedbError(ErrorCode.EINVAL, `a 'json' table's value cannot be serialised: ${(e as Error).message}`);
    }
    if (s === undefined) throw new PagedbError(ErrorCode.EINVAL, `a 'json' table's value cannot be ${typeof v}`);
    return enc.encode(s);
  },
  decode: (b) => {
    try {
      return JSON.parse(dec.decode(b));
    } catch (e) {
      throw new PagedbError(ErrorCode.EINVAL, `a value of a 'json' table is not JSON: ${(e as Error).message}`);
    }
  },
};

/**
 * The codec object for a spec. Throws PagedbError EINVAL for an unknown name or an object
 * without encode/decode functions.
 */
export function resolveCodec<T = unknown>(spec: CodecSpec<T> | undefined): Codec<T> {
  if (spec === undefined || spec === 'bytes') return BYTES as unknown as Codec<T>;
  if (spec === 'utf8') return UTF8 as unknown as Codec<T>;
  if (spec === 'json') return JSON_CODEC as Codec<T>;
  if (spec && typeof spec === 'object' && typeof spec.encode === 'function' && typeof spec.decode === 'function') {
    const c = spec;
    return {
      encode: (v: T) => {
        const b = c.encode(v);
        if (!(b instanceof Uint8Array)) throw new PagedbError(ErrorCode.EINVAL, 'a custom codec\'s encode must return a Uint8Array');
        return b;
      },
      decode: (b: Uint8Array) => c.decode(b),
    };
  }
  throw new PagedbError(ErrorCode.EINVAL, `unknown codec ${String(spec)}: 'bytes', 'utf8', 'json' or { encode, decode }`);
}
