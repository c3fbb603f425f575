/** Public option and result types shared by every entry point of the package. */

/** Bytes, or a string that is UTF-8 encoded. */
export type Bytes = Uint8Array | string;

/** Cipher of a new database; recorded in the file, ignored when opening an existing one. */
export type Cipher = 'xchacha20poly1305' | 'aes256gcm' | 'none';

/** Options of {@link open}. Exactly one of `key` or `passphrase` is required. */
export interface OpenOptions {
  /** 32-byte raw key (the key-encryption key). */
  key?: Uint8Array;
  /** Passphrase, stretched with Argon2id (libsodium crypto_pwhash). */
  passphrase?: string;
  /** Hard cap of the buffer pool in bytes (default 8 MiB; at least 64 pages). */
  cacheBytes?: number;
  /** Page size in bytes for a new database: power of two, 4096..65536 (default 4096). */
  pageSize?: number;
  /** Cipher of a new database (default 'xchacha20poly1305'; 'aes256gcm' is unavailable in wasm). */
  cipher?: Cipher;
  /** Create the database if absent (default true). */
  create?: boolean;
  /** Open read-only. */
  readOnly?: boolean;
  /** Argon2id limits used when creating a passphrase database (default libsodium INTERACTIVE). */
  pwhashOpsLimit?: number;
  /** Argon2id memory limit in bytes (default libsodium INTERACTIVE, 64 MiB). */
  pwhashMemLimit?: number;
  /**
   * TEST ONLY: a 32-byte seed making key and nonce generation deterministic so the same
   * operations produce byte-identical files on every target. Refused unless
   * `allowDeterministic` is also true.
   */
  testSeed?: Uint8Array;
  /** TEST ONLY: must be true for `testSeed` to be accepted. */
  allowDeterministic?: boolean;
  /** Node only: directory under which the database directory `name` lives (default cwd). */
  directory?: string;
}

/** Range of {@link Database.range}: all bounds optional. */
export interface RangeOptions {
  /** Inclusive lower bound. */
  gte?: Bytes;
  /** Exclusive upper bound. */
  lt?: Bytes;
  /** Only keys starting with this prefix. */
  prefix?: Bytes;
  /** Descending order. */
  reverse?: boolean;
  /** At most this many entries. */
  limit?: number;
}

/** Counters of {@link Database.stat} (bytes, pages, counts). */
export interface Stats {
  pageSize: number;
  cipher: number;
  txnId: number;
  pageCount: number;
  freePages: number;
  fileBytes: number;
  cacheCapBytes: number;
  cachePages: number;
  cacheHits: number;
  cacheMisses: number;
  cacheEvictions: number;
  bytesRead: number;
  bytesWritten: number;
  syncs: number;
  tables: number;
  realms: number;
}

const enc = new TextEncoder();

/** UTF-8 encode strings; pass Uint8Array through. */
export function toBytes(b: Bytes): Uint8Array {
  return typeof b === 'string' ? enc.encode(b) : b;
}
