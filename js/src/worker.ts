/**
 * worker.ts — the dedicated Web Worker that runs the engine on OPFS. Speaks the typed
 * protocol of protocol.ts: posts {ready: true} first, then runs each batch message
 * (wire.ts WireRequests; the first holds only the open op) in arrival order, its requests
 * one at a time (an op's asynchronous part — opening, creating a segment file on OPFS,
 * removing deleted ones — finishes before the next op starts), and answers with
 * WireAnswers messages in request order (handler.ts runBatch). Nothing is thrown out of
 * the worker: a failure answers its own request with an error entry (code and message,
 * wire.ts AnswerWriter.error); a batch that arrives before the database is open, or whose
 * open fails, has every request answered with that error. Result bytes (get values, scan
 * entries, segRead bytes) are transferred, not copied, back.
 */
import { ErrorCode } from './errors.js';
import { Handler, toWire, type BatchReply } from './handler.js';
import { loadModule } from './module_browser.js';
import { OpfsBackend } from './opfs_backend.js';
import type { OpArgs } from './protocol.js';
import type { OpenOptions } from './types.js';
import { A_ERR, AnswerWriter, K_OBJ, type WireRequests } from './wire.js';

let handler: Handler | undefined;
let queue: Promise<void> = Promise.resolve();

/** Post an answer message; if it cannot be cloned, answer its requests with EIO instead. */
function send(r: BatchReply): void {
  try {
    postMessage(r.msg, { transfer: r.transfer });
  } catch (e) {
    const out = new AnswerWriter();
    out.first = r.msg.first;
    for (let i = 0; i < r.msg.kinds.length; i++) out.error(ErrorCode.EIO, `answer cannot be sent: ${String(e)}`);
    postMessage(out.take().msg);
  }
}

/** Answer every request of `batch` with the same error. */
function failAll(batch: WireRequests, e: unknown): void {
  const w = toWire(e), out = new AnswerWriter();
  out.first = batch.first;
  for (let i = 0; i < batch.kinds.length; i++) out.error(w.code, w.message);
  send(out.take());
}

/** Open the database (the batch holding only the open op): OPFS directory, module, open. */
async function openDb(batch: WireRequests): Promise<void> {
  let b: OpfsBackend | undefined;
  try {
    const a = batch.objs[0].args as OpArgs['open'];
    const fh = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle;
    if (!fh || !('createSyncAccessHandle' in fh.prototype))
      throw Object.assign(new Error('missing capability: OPFS sync access handles (FileSystemSyncAccessHandle in dedicated workers)'),
        { pagedbCode: ErrorCode.ENOTSUP });
    b = await OpfsBackend.prepare(a.name, a.options.create ?? true);
    const m = await loadModule(a.options);
    if (a.options.testFaults) injectFaults(b, a.options.testFaults);
    m.pagedbVfs = b;
    const backend = b;
    const h = new Handler(m, () => backend.releaseAll());
    let reply: BatchReply | undefined;
    await h.runBatch(batch, (r) => {
      reply = r;
    });
    // a failed create leaves nothing behind: clean up before answering
    if (reply && reply.msg.kinds[0] !== A_ERR) handler = h;
    else await backend.discardFailedCreate();
    if (reply) send(reply);
  } catch (e) {
    await b?.discardFailedCreate();
    failAll(batch, e);
  }
}

/**
 * TEST ONLY: the faults of OpenOptions.testFaults, wrapped around the backend's write: a
 * busy-wait before or after each header-page write of main.pdb once the database is open
 * (the worker cannot sleep synchronously without SharedArrayBuffer), so a test can crash
 * the page while a commit is stalled there.
 */
function injectFaults(b: OpfsBackend, f: NonNullable<OpenOptions['testFaults']>): void {
  const write = b.write.bind(b), open = b.open.bind(b);
  const main = new Set<number>();
  b.open = (path, flags) => {
    const h = open(path, flags);
    if (path.endsWith('/main.pdb')) main.add(h);
    return h;
  };
  const stall = (ms: number | undefined) => {
    if (!ms) return;
    const end = Date.now() + ms;
    while (Date.now() < end) { /* busy-wait: the page may be crashed meanwhile */ }
  };
  b.write = (h, buf, off) => {
    const header = handler !== undefined && main.has(h) && (off === 0 || off === buf.length);
    if (header) stall(f.stallBeforeHeaderMs);
    const n = write(h, buf, off);
    if (header) stall(f.stallAfterHeaderMs);
    return n;
  };
}

async function handle(batch: WireRequests): Promise<void> {
  if (handler) return handler.runBatch(batch, send);
  if (batch.kinds.length === 1 && batch.kinds[0] === K_OBJ && batch.objs[0].op === 'open') return openDb(batch);
  failAll(batch, Object.assign(new Error('database is not open'), { pagedbCode: ErrorCode.EMISUSE }));
}

self.addEventListener('message', (ev: MessageEvent) => {
  const batch = ev.data as WireRequests;
  queue = queue.then(() => handle(batch)).catch(() => undefined);
});
postMessage({ ready: true });
