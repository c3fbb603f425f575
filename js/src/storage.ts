/**
 * storage.ts — storage quota and persistence in browsers: `db.storage()` (Database) and
 * `requestPersistence()`.
 */
import { PagedbError, ErrorCode } from './errors.js';

/** Answer of `db.storage()`: the origin's quota figures and this database's files. */
export interface StorageInfo {
  /** navigator.storage.estimate().usage: bytes this origin uses (undefined where unknown, e.g. Node). */
  usage: number | undefined;
  /** navigator.storage.estimate().quota: bytes this origin may use (undefined where unknown). */
  quota: number | undefined;
  /** navigator.storage.persisted(): true when the origin's storage is not evicted under pressure. */
  persisted: boolean | undefined;
  /** Bytes of main.pdb (Stats.fileBytes). */
  mainBytes: number;
  /** Bytes of data in the linked segments (their lengths; each file adds its page overhead). */
  segmentBytes: number;
  /** Number of linked segments. */
  segments: number;
}

/** navigator.storage.estimate() and persisted(), or undefineds where the API is missing. */
export async function estimate(): Promise<Pick<StorageInfo, 'usage' | 'quota' | 'persisted'>> {
  const s = (globalThis as { navigator?: Navigator }).navigator?.storage;
  if (!s || typeof s.estimate !== 'function') return { usage: undefined, quota: undefined, persisted: undefined };
  const e = await s.estimate();
  const persisted = typeof s.persisted === 'function' ? await s.persisted() : undefined;
  return { usage: e.usage, quota: e.quota, persisted };
}

/**
 * Ask the browser to make this origin's storage persistent (navigator.storage.persist():
 * not evicted under storage pressure). Resolves with the browser's answer (Chromium grants
 * it by its own heuristics, e.g. an installed app or a bookmarked site; Firefox asks the
 * user). Rejects with PagedbError ENOTSUP where the API is missing (Node, insecure
 * contexts).
 */
export async function requestPersistence(): Promise<boolean> {
  const s = (globalThis as { navigator?: Navigator }).navigator?.storage;
  if (!s || typeof s.persist !== 'function')
    throw new PagedbError(ErrorCode.ENOTSUP, 'missing capability: navigator.storage.persist');
  return s.persist();
}
