/**
 * snapshot_import_worker.ts — the dedicated module Worker that runs one importSnapshot on
 * OPFS (snapshot_import.ts), started by the page side (snapshot_import_client.ts) and ended
 * by it after the answer. Messages (structured clone):
 *
 *  - worker → page `{ t: 'ready' }` once loaded; page → worker `{ t: 'start', job }`;
 *  - page → worker `{ t: 'chunk', b }` (a stream chunk), then `{ t: 'end' }`, or
 *    `{ t: 'abort' }` (the chunks fail with ECANCELED: nothing changed);
 *  - worker → page `{ t: 'ack', n }` after each chunk is spooled (n = bytes so far; the page
 *    keeps a bounded number of bytes unacknowledged), then `{ t: 'done', p }` (the engine's
 *    final SnapshotProgress) or `{ t: 'err', code, message }`.
 *
 * Loaded only when importSnapshot is called, so the first load of a page does not carry it.
 */
import { PagedbError, ErrorCode } from './errors.js';
import { toWire } from './handler.js';
import { importIntoOpfs, type ImportJob } from './snapshot_import.js';

type In = { t: 'start'; job: ImportJob } | { t: 'chunk'; b: Uint8Array } | { t: 'end' } | { t: 'abort' };

const queue: In[] = [];
let wake: (() => void) | undefined;

async function* chunks(): AsyncGenerator<Uint8Array> {
  for (;;) {
    while (!queue.length) await new Promise<void>((r) => (wake = r));
    const m = queue.shift()!;
    if (m.t === 'end') return;
    if (m.t === 'abort') throw new PagedbError(ErrorCode.ECANCELED, 'snapshot import aborted while the stream was read: nothing changed');
    if (m.t === 'chunk') yield m.b;
  }
}

self.addEventListener('message', (ev: MessageEvent) => {
  const m = ev.data as In;
  if (m.t === 'start') {
    importIntoOpfs(m.job, chunks(), (n) => postMessage({ t: 'ack', n })).then(
      (p) => postMessage({ t: 'done', p }),
      (e) => postMessage({ t: 'err', ...toWire(e) }),
    );
    return;
  }
  queue.push(m);
  wake?.();
  wake = undefined;
});
postMessage({ t: 'ready' });
