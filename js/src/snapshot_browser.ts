/**
 * snapshot_browser.ts — importSnapshot in browsers: not available yet. The engine's import
 * writes temporary files and renames them into place (pagedb.h pagedb_vfs.rename); OPFS
 * creates and moves files only asynchronously (getFileHandle, FileSystemHandle.move),
 * which the synchronous VFS of the worker cannot call mid-import. Export works
 * (Database.exportSnapshot); restore a browser's stream under Node or with the CLI
 * (`pagedb restore DIR IN...`).
 */
import { CapabilityError } from './capabilities.js';

/** The options importSnapshot takes under Node (key or passphrase, signal, onProgress). */
export interface ImportSnapshotOptions {
  key?: Uint8Array;
  passphrase?: string;
  pwhashOpsLimit?: number;
  pwhashMemLimit?: number;
  signal?: AbortSignal;
  onProgress?: (p: { pagesDone: number; pagesTotal: number; bytesDone: number; targetTxn: number }) => void;
}

/**
 * Restore a snapshot stream into the OPFS database `name`: always rejects with
 * CapabilityError (PagedbError ENOTSUP, capability "synchronous OPFS rename"), reading
 * nothing of the stream and changing nothing. See the file header; the Node entry
 * implements it.
 */
export async function importSnapshot(name: string, stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  options: ImportSnapshotOptions): Promise<never> {
  void name, void stream, void options;
  throw new CapabilityError('synchronous OPFS rename', 'importSnapshot needs it; restore under Node or with `pagedb restore`');
}
