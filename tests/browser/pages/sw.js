// A service worker (module) that serves /tests/browser/pages/offline/* out of pagedb, for
// tests/browser/service_worker.spec.ts: GET offline/<name> answers the value of key
// <name> of table "pages" of database "site" (opened as a client of the tab that owns it).
// Errors answer 503 with {codeName, message} as JSON. With no tab open, open() and reads
// reject with ENOTSUP; an open Database re-attaches by itself when a tab opens the database.
import * as pagedb from '/dist/index.js';

let dbp;
const db = () => (dbp ??= pagedb.open('site', { key: new Uint8Array(32).fill(7) }).catch((e) => {
  dbp = undefined;
  throw e;
}));

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (ev) => ev.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (ev) => {
  const url = new URL(ev.request.url);
  const prefix = '/tests/browser/pages/offline/';
  if (!url.pathname.startsWith(prefix)) return;
  const name = url.pathname.slice(prefix.length);
  ev.respondWith((async () => {
    try {
      const d = await db();
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
