// A dedicated module worker that opens database `db` (query parameter of its URL; key = 32
// bytes of 7) with the promise API, for worker.spec.ts: self.db is the Database,
// self.changes the Change notifications it received, self.ready true once open() settled
// (self.openError its error). The spec drives it with Playwright's Worker.evaluate.
// `entry=dedicated-worker` imports the package's dedicated-worker entry instead of the
// browser entry.
const q = new URL(self.location.href).searchParams;
const pagedb = await import(q.get('entry') === 'dedicated-worker' ? '/dist/dedicated_worker.js' : '/dist/index.js');
self.pagedb = pagedb;
self.enc = (s) => new TextEncoder().encode(s);
self.dec = (u) => (u === undefined ? undefined : new TextDecoder().decode(u));
self.changes = [];
try {
  self.db = await pagedb.open(q.get('db') ?? 'tabs', { key: new Uint8Array(32).fill(7) });
  self.db.subscribe((c) => self.changes.push({ txnId: c.txnId, tables: c.tables.map((t) => t.name),
    keys: c.tables.map((t) => t.keys?.map((k) => self.dec(k))) }));
} catch (e) {
  self.openError = { code: e.code, codeName: e.codeName, message: e.message };
}
self.ready = true;
