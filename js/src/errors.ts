/**
 * Error codes and the error class of the pagedb package. The numeric codes equal the C
 * enum pagedb_error of core/include/pagedb.h one to one: ErrorCode is generated from the
 * header (error_codes.ts, scripts/gen-error-codes.mjs). UNKNOWN_OUTCOME is the package's
 * own: the owner of the database (another tab) went away while a commit was in flight, so
 * it may or may not have been committed; retry with the same idempotency id
 * (`db.write(fn, { idempotencyId })`) to apply it exactly once (see tabs.ts).
 *
 * errorCodeOf is the one mapping from anything a storage backend throws to a code: the
 * wasm import layer (platform/opfs/lib.js, through the module hook installed by
 * boundary.ts), the engine's asynchronous steps (engine.ts toPagedbError) and the handler's
 * answers (handler.ts toWire) all use it.
 */
import { ErrorCode } from './error_codes.js';


export { ErrorCode };

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

/**
 * The pagedb error code for anything thrown: a PagedbError's code; an explicit numeric
 * `pagedbCode` property (backend.ts vfsError); EFULL for storage full (DOMException
 * QuotaExceededError, Node ENOSPC/EDQUOT); ENOTFOUND for a missing file (NotFoundError,
 * ENOENT); EBUSY for a file another handle holds (NoModificationAllowedError,
 * InvalidStateError); EIO for anything else. Never throws.
 */
export function errorCodeOf(e: unknown): number {
  if (e instanceof PagedbError) return e.code;
  const err = e as { pagedbCode?: unknown; name?: unknown; code?: unknown } | null | undefined;
  if (typeof err?.pagedbCode === 'number') return err.pagedbCode;
  const name = err?.name, code = err?.code;
  if (name === 'QuotaExceededError' || code === 'ENOSPC' || code === 'EDQUOT') return ErrorCode.EFULL;
  if (name === 'NotFoundError' || code === 'ENOENT') return ErrorCode.ENOTFOUND;
  if (name === 'NoModificationAllowedError' || name === 'InvalidStateError') return ErrorCode.EBUSY;
  return ErrorCode.EIO;
}
