/**
 * worker.ts — the dedicated Web Worker that runs the engine on OPFS. Speaks the typed
 * protocol of protocol.ts: posts {ready: true} first, then answers each {id, op, args}
 * in order (one at a time: an op's asynchronous part — creating a segment file on OPFS,
 * removing deleted ones — finishes before the next op starts). Nothing is thrown out of the
 * worker: failures become {ok: false, code, message}. A segRead's bytes are transferred
 * (not copied) back.
 */
import { Handler, toWire } from './handler.js';
import { loadModule } from './module_browser.js';
import { OpfsBackend } from './opfs_backend.js';
import type { Request } from './protocol.js';

let handler: Handler | undefined;
let backend: OpfsBackend | undefined;
let queue: Promise<void> = Promise.resolve();

async function handle(req: Request): Promise<void> {
  try {
    if (req.op === 'open') {
      const a = req.args as Request<'open'>['args'];
      backend = await OpfsBackend.prepare(a.name, a.options.create ?? true);
      const m = await loadModule(a.options);
      m.pagedbVfs = backend;
      const b = backend;
      handler = new Handler(m, () => b.releaseAll());
      try {
        await handler.runAsync('open', a);
      } catch (e) {
        b.releaseAll();
        handler = undefined;
        throw e;
      }
      postMessage({ id: req.id, ok: true, result: null });
      return;
    }
    if (!handler) throw Object.assign(new Error('database is not open'), { pagedbCode: 8 });
    const result = await handler.runAsync(req.op, req.args as never);
    const transfer = req.op === 'segRead' ? [(result as { bytes: Uint8Array }).bytes.buffer as ArrayBuffer] : [];
    postMessage({ id: req.id, ok: true, result }, { transfer });
  } catch (e) {
    postMessage({ id: req.id, ok: false, ...toWire(e) });
  }
}

self.addEventListener('message', (ev: MessageEvent) => {
  const req = ev.data as Request;
  queue = queue.then(() => handle(req));
});
postMessage({ ready: true });
