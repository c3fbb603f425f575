/**
 * worker.ts — the dedicated Web Worker that runs the engine on OPFS. Speaks the typed
 * protocol of protocol.ts: posts {ready: true} first, then runs each batch message
 * `{batch: [{id, op, args}, ...]}` in arrival order, its requests one at a time (an op's
 * asynchronous part — opening, creating a segment file on OPFS, removing deleted ones —
 * finishes before the next op starts), and answers with `{batch: [...]}` messages in
 * request order (handler.ts runBatch). Nothing is thrown out of the worker: failures
 * become {ok: false, code, message} for their own request. Result bytes (get values, scan
 * entries, segRead bytes) are transferred, not copied, back.
 */
import { Handler, toWire, type BatchReply } from './handler.js';
import { loadModule } from './module_browser.js';
import { OpfsBackend } from './opfs_backend.js';
import type { BatchRequest, Request } from './protocol.js';

let handler: Handler | undefined;
let backend: OpfsBackend | undefined;
let queue: Promise<void> = Promise.resolve();

const send = (r: BatchReply): void => postMessage(r.msg, { transfer: r.transfer });

/** Open the database: prepare the OPFS directory, load the module, run the open op. */
async function openDb(req: Request): Promise<void> {
  let b: OpfsBackend | undefined;
  try {
    const a = req.args as Request<'open'>['args'];
    b = backend = await OpfsBackend.prepare(a.name, a.options.create ?? true);
    const m = await loadModule(a.options);
    m.pagedbVfs = b;
    const h = new Handler(m, () => b?.releaseAll());
    await h.runBatch([req], (r) => {
      if (r.msg.batch[0]?.ok === true) handler = h;
      else b?.releaseAll();
      send(r);
    });
  } catch (e) {
    b?.releaseAll();
    send({ msg: { batch: [{ id: req.id, ok: false, ...toWire(e) }] }, transfer: [] });
  }
}

async function handle(reqs: Request[]): Promise<void> {
  for (let i = 0; i < reqs.length;) {
    if (reqs[i].op === 'open') {
      await openDb(reqs[i]);
      i++;
      continue;
    }
    let j = i;
    while (j < reqs.length && reqs[j].op !== 'open') j++;
    const run = reqs.slice(i, j);
    if (handler) await handler.runBatch(run, send);
    else send({ msg: { batch: run.map((r) => ({ id: r.id, ok: false as const, code: 8, message: 'database is not open' })) }, transfer: [] });
    i = j;
  }
}

self.addEventListener('message', (ev: MessageEvent) => {
  const reqs = (ev.data as BatchRequest).batch;
  queue = queue.then(() => handle(reqs)).catch(() => undefined);
});
postMessage({ ready: true });
