/**
 * capabilities.ts — what a browser context needs to open a database, checked before
 * anything starts, so a missing feature fails at once with a typed error that names it
 * (never a hang). Nothing here needs COOP/COEP (no SharedArrayBuffer).
 *
 * Every context: a secure context (https, or http://localhost), OPFS
 * (navigator.storage.getDirectory), Web Locks (navigator.locks), BroadcastChannel and
 * crypto.subtle. A tab additionally needs module Workers; the worker needs
 * FileSystemSyncAccessHandle (checked there: worker.ts). See the README's browser table.
 */
import { PagedbError, ErrorCode } from './errors.js';

/**
 * PagedbError ENOTSUP for a browser feature pagedb needs and this context lacks.
 * `capability` names it (e.g. "Web Locks (navigator.locks)").
 */
export class CapabilityError extends PagedbError {
  /** The missing feature. */
  readonly capability: string;

  constructor(capability: string, detail = '') {
    super(ErrorCode.ENOTSUP, `missing capability: ${capability}${detail ? ` (${detail})` : ''}`);
    this.capability = capability;
  }
}

/**
 * The first capability this context lacks, or undefined. `worker`: whether this context
 * must be able to start a dedicated worker (tabs; not service workers).
 */
export function missingCapability(worker: boolean): string | undefined {
  const g = globalThis as unknown as { isSecureContext?: boolean; navigator?: Navigator };
  if (g.isSecureContext === false) return 'secure context (https or http://localhost)';
  const nav = g.navigator;
  if (!nav?.storage || typeof nav.storage.getDirectory !== 'function') return 'OPFS (navigator.storage.getDirectory)';
  if (!nav.locks || typeof nav.locks.request !== 'function') return 'Web Locks (navigator.locks)';
  if (typeof BroadcastChannel !== 'function') return 'BroadcastChannel';
  if (!globalThis.crypto?.subtle) return 'crypto.subtle';
  if (worker && typeof Worker !== 'function') return 'Worker';
  return undefined;
}

/** Throw a {@link CapabilityError} when {@link missingCapability} finds one. */
export function requireCapabilities(worker: boolean): void {
  const m = missingCapability(worker);
  if (m) throw new CapabilityError(m);
}
