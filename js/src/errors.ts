/**
 * Error codes and the error class of the pagedb package. The numeric codes equal the C
 * enum pagedb_error of core/include/pagedb.h one to one.
 */

/** Result codes, equal to the C enum `pagedb_error`. */
export const ErrorCode = {
  OK: 0,
  ENOTFOUND: 1,
  EBUSY: 2,
  ECORRUPT: 3,
  EAUTH: 4,
  EKEY: 5,
  EIO: 6,
  EFULL: 7,
  EMISUSE: 8,
  ENOMEM: 9,
  EINVAL: 10,
  EEXIST: 11,
  ECONFLICT: 12,
  ETOOBIG: 13,
  EVERSION: 14,
  ENOTDB: 15,
  EKEYORDER: 16,
  ENOTSUP: 17,
  ESEALED: 18,
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ErrorCode).map(([k, v]) => [v, `PAGEDB_${k}`]),
);

/**
 * Every failure of the package rejects with a PagedbError. `code` is the C error code
 * (see {@link ErrorCode}); `message` carries the engine's detail (for example which page
 * failed authentication) or the storage backend's message.
 */
export class PagedbError extends Error {
  /** The pagedb error code (equal to the C enum). */
  readonly code: number;
  /** Symbolic name such as "PAGEDB_EKEY". */
  readonly codeName: string;

  constructor(code: number, message: string) {
    const name = NAMES[code] ?? `PAGEDB_E${code}`;
    super(`${name}: ${message}`);
    this.name = 'PagedbError';
    this.code = code;
    this.codeName = name;
  }
}
