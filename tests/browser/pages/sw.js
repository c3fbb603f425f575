// A service worker (module) that serves /tests/browser/pages/offline/* out of pagedb, for
// tests/browser/service_worker.spec.ts: GET offline/<name> answers the value of key
// <name> of table "pages" of database "site"; GET offline/_write?k=..&v=.. writes it;
// GET offline/_changes answers how many change notifications the service worker received.
// While a tab has the database open the Database works through it; with no tab, reads
// come from the read-only snapshot (pagedb/service-worker) and writes fail with ENOTSUP.
// Errors answer 503 with {codeName, message} as JSON.
import * as pagedb from '/dist/service_worker.js';

let dbp, changes = 0;
const db = () => (dbp ??= pagedb.open('site', { key: new Uint8Array(32).fill(7) }).then((d) => {
  d.subscribe(() => changes++); // commits made in any tab
  return d;
}, (e) => {
  dbp = undefined;
  throw e;
}));

self.addEventListener('install', (ev) => {
  // the wasm module, so the snapshot path can start offline
  ev.waitUntil(caches.open('pagedb').then((c) => c.add(pagedb.wasmUrl)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (ev) => ev.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (ev) => {
  const url = new URL(ev.request.url);
  const prefix = '/tests/browser/pages/offline/';
  if (!url.pathname.startsWith(prefix)) return;
  const name = url.pathname.slice(prefix.length);
  ev.respondWith((async () => {
    try {
      const d = await db();
      if (name === '_changes') return new Response(String(changes));
      if (name === '_write') {
        await d.write((tx) => tx.table('pages').put(url.searchParams.get('k'), url.searchParams.get('v')));
        return new Response('written');
      }
      const v = await d.read((tx) => tx.table('pages').get(name));
      if (v === undefined) return new Response('not in pagedb', { status: 404 });
      const type = name.endsWith('.html') ? 'text/html' : 'text/plain';
      return new Response(v, { headers: { 'content-type': type, 'cache-control': 'no-store' } });
    } catch (e) {
      return new Response(JSON.stringify({ codeName: e?.codeName, message: e?.message }),
        { status: 503, headers: { 'content-type': 'application/json' } });
    }
  })());
});
