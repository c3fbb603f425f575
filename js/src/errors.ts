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
  /**
   * The owner of the database (another tab) went away while this commit was in flight: it
   * may or may not have been committed. Retry with the same idempotency id (`db.write(fn,
   * { idempotencyId })`) to apply it exactly once (see tabs.ts).
   */
  UNKNOWN_OUTCOME: 19,
  /** A maintenance operation (compaction, key change) was cancelled; its committed steps stay and the next call resumes. */
  ECANCELED: 20,
} as const;

/** One of the values of {@link ErrorCode} (OK included). */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The name of an error code: "ENOTFOUND", "EBUSY", ... (every key of ErrorCode but OK). */
export type ErrorCodeName = Exclude<keyof typeof ErrorCode, 'OK'>;

/** The code of a {@link PagedbError}: the union of the C error codes (OK excluded). */
export type PagedbErrorCode = (typeof ErrorCode)[ErrorCodeName];

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ErrorCode).map(([k, v]) => [v, `PAGEDB_${k}`]),
);

/**
 * Every failure of the package rejects with a PagedbError. `code` is the C error code,
 * typed as the union of the named codes, so `switch (e.code) { case ErrorCode.EBUSY: ... }`
 * narrows; `codeName` its name ("PAGEDB_EBUSY"); `message` carries the engine's detail
 * (for example which page failed authentication) or the storage backend's message.
 */
export class PagedbError extends Error {
  /** The pagedb error code (equal to the C enum; see {@link ErrorCode}). */
  readonly code: PagedbErrorCode;
  /** Symbolic name such as "PAGEDB_EKEY". */
  readonly codeName: `PAGEDB_${ErrorCodeName}`;

  /**
   * `code`: a pagedb error code (a number the engine returned, checked against nothing:
   * an unknown one keeps its number and is named "PAGEDB_E<number>"); `message`: the
   * detail, prefixed with the code's name.
   */
  constructor(code: number, message: string) {
    const name = NAMES[code] ?? `PAGEDB_E${code}`;
    super(`${name}: ${message}`);
    this.name = 'PagedbError';
    this.code = code as PagedbErrorCode;
    this.codeName = name as `PAGEDB_${ErrorCodeName}`;
  }
}
