// engines.mjs — the browser benchmark's phase runner and its four engine adapters:
//   pagedb-worker   pagedb's synchronous API (openInWorker) inside a dedicated worker
//   pagedb-promise  pagedb's promise API (open) called from the page (engine in its own worker)
//   pagedb-promise-worker  the same promise-API adapter (open) called inside a dedicated
//                   worker: that worker owns the database and runs the engine in its own
//                   thread (js/src/local.ts; db.engineLocation 'this-thread'), no message hop
//   pagedb-tab-client  the same promise-API adapter in a second tab of the same browser
//                   context, a client whose calls travel to the owner tab (js/src/tabs.ts:
//                   MessagePort brokered by a SharedWorker); run.mjs opens the owner first
//                   (openOwner below) in the first tab
//   sqlite-wasm     @sqlite.org/sqlite-wasm on the opfs-sahpool VFS inside a dedicated worker
//   sqlite-promiser sqlite-wasm's own worker promiser (sqlite3Worker1Promiser) from the page,
//                   its Worker1 worker on opfs-sahpool (sqlite_worker1.mjs)
//   indexeddb       raw IndexedDB from the page, every transaction durability: 'strict'
// Besides the phases, runPhases measures gets and ranges awaited one at a time (µs per call)
// where the adapter has awaitedGets/awaitedRanges, and pagedbPromise's getBreakdown says where
// an awaited get goes; hopBaseline measures the floors (postMessage round trip, resolved promise).
// Every adapter runs the same phases on the same bytes (workload.mjs); every read is verified.
import { prepare, equal, compare } from './workload.mjs';

const TABLE = 'bench';
const KEY = new Uint8Array(32).map((_, i) => (i * 7 + 3) & 255);

async function opfsDirSize(name) {
  const root = await navigator.storage.getDirectory();
  let dir;
  try { dir = await root.getDirectoryHandle(name); } catch { return 0; }
  let total = 0;
  for await (const [, h] of dir.entries()) if (h.kind === 'file') total += (await h.getFile()).size;
  return total;
}

async function opfsRemove(name) {
  const root = await navigator.storage.getDirectory();
  try { await root.removeEntry(name, { recursive: true }); } catch { /* absent */ }
}

/** Precompute the data plus the key order (for exact range verification). */
export function prepareData(p) {
  const d = prepare(p);
  const sorted = Array.from({ length: p.total }, (_, i) => i).sort((a, b) => compare(d.keys[a], d.keys[b]));
  const rank = new Int32Array(p.total);
  sorted.forEach((idx, r) => { rank[idx] = r; });
  d.sorted = sorted;
  d.rank = rank;
  return d;
}

// Range check: range r must return exactly the entries of ranks rank[start] .. +len.
function rangeChecker(p, d) {
  return (startIdx, j, k, v) => {
    const s = d.sorted[d.rank[startIdx] + j];
    return s !== undefined && equal(k, d.keys[s]) && equal(v, d.vals[s]);
  };
}
function rangeExpected(p, d, startIdx) {
  return Math.min(p.rangeLen, p.total - d.rank[startIdx]);
}

/** Run every phase of p on adapter a; returns { phases: {name: {ops, seconds, opsPerSec}}, fileBytes, ... }. */
export async function runPhases(a, p, d, log = () => {}) {
  const now = () => performance.now();
  const out = {};
  const timed = async (name, ops, fn) => {
    const t0 = now();
    const r = await fn();
    const s = (now() - t0) / 1000;
    out[name] = { ops, seconds: +s.toFixed(4), opsPerSec: Math.round(ops / s) };
    log(`${a.name} ${name}: ${ops} ops in ${s.toFixed(2)} s = ${Math.round(ops / s)} ops/s`);
    return r;
  };
  await a.open();
  await timed('bulk_load', p.n, () => a.bulk(0, p.n));
  await timed('individual_writes', p.individual, async () => {
    for (let i = p.n; i < p.n + p.individual; i++) await a.bulk(i, i + 1);
  });
  const b0 = p.n + p.individual;
  await timed('batch_writes', p.batches * p.batchSize, async () => {
    for (let b = 0; b < p.batches; b++) await a.bulk(b0 + b * p.batchSize, b0 + (b + 1) * p.batchSize);
  });
  const bad = await timed('random_reads', p.reads, () => a.reads(d.readIdx));
  if (bad !== 0) throw new Error(`${a.name}: ${bad} of ${p.reads} random reads returned a wrong value`);
  let awaited;
  if (a.awaitedGets) {
    // latency: gets called and awaited one at a time (each waits for the previous answer),
    // in one read transaction, on the first AWAITED_GETS keys of the random-read order
    const idx = d.readIdx.subarray(0, Math.min(AWAITED_GETS, d.readIdx.length));
    const t0 = now();
    const abad = await a.awaitedGets(idx);
    const s = (now() - t0) / 1000;
    if (abad !== 0) throw new Error(`${a.name}: ${abad} awaited gets returned a wrong value`);
    awaited = { ops: idx.length, seconds: +s.toFixed(4), usPerGet: +((s * 1e6) / idx.length).toFixed(2) };
    log(`${a.name} awaited gets: ${idx.length} one at a time, ${awaited.usPerGet} µs per get`);
  }
  let awaitedRange;
  if (a.awaitedRanges) {
    // latency: ranges of rangeLen entries called and awaited one at a time, in one read
    // transaction, on the first AWAITED_RANGES starts of the random-range order
    const idx = d.rangeIdx.subarray(0, Math.min(AWAITED_RANGES, d.rangeIdx.length));
    const t0 = now();
    const abad = await a.awaitedRanges(idx, p.rangeLen, rangeChecker(p, d), (s) => rangeExpected(p, d, s));
    const s = (now() - t0) / 1000;
    if (abad !== 0) throw new Error(`${a.name}: ${abad} awaited ranges returned wrong entries`);
    awaitedRange = { ops: idx.length, seconds: +s.toFixed(4), usPerRange: +((s * 1e6) / idx.length).toFixed(2) };
    log(`${a.name} awaited ranges: ${idx.length} one at a time, ${awaitedRange.usPerRange} µs per range`);
  }
  let breakdown;
  if (a.getBreakdown) {
    // where an awaited get goes: the same gets replayed one layer at a time (see pagedbPromise)
    breakdown = await a.getBreakdown(d.readIdx.subarray(0, Math.min(AWAITED_GETS, d.readIdx.length)));
    log(`${a.name} awaited-get breakdown (µs per get): ${JSON.stringify(breakdown)}`);
  }
  const rbad = await timed('random_ranges', p.ranges, () => a.ranges(d.rangeIdx, p.rangeLen, rangeChecker(p, d), (s) => rangeExpected(p, d, s)));
  if (rbad !== 0) throw new Error(`${a.name}: ${rbad} of ${p.ranges} range reads returned wrong entries`);
  await timed('removals', p.removals, () => a.remove(0, p.removals));
  // the removals really happened: a removed key is gone, a kept key is still there
  const gone = await a.probe(0), kept = await a.probe(p.removals);
  if (gone !== false || kept !== true) throw new Error(`${a.name}: removal check failed (key 0 present: ${gone}, key ${p.removals} present: ${kept})`);
  await a.close();
  const size = await a.size();
  log(`${a.name} file size: ${size.bytes} bytes (${size.how})`);
  return { phases: out, awaitedGet: awaited, awaitedRange, breakdown, fileBytes: size.bytes, fileBytesHow: size.how, settings: a.settings };
}

/** µs per get of `count` gets awaited one at a time through adapter a (a.awaitedGets). */
export async function awaitedGetsUs(a, d, count) {
  const idx = d.readIdx.subarray(0, count), t0 = performance.now();
  const bad = await a.awaitedGets(idx);
  if (bad) throw new Error(`${bad} wrong values`);
  return +(((performance.now() - t0) * 1000) / idx.length).toFixed(2);
}

/** Gets of the latency measurement (runPhases: called and awaited one at a time). */
const AWAITED_GETS = 5000;
/** Ranges of the latency measurement (runPhases: called and awaited one at a time). */
const AWAITED_RANGES = 2000;
/** Rounds of getBreakdown's replays (the minimum per layer is reported). */
const BREAKDOWN_ROUNDS = 5;

// ---- pagedb, synchronous API in this worker ----
export function pagedbSync(d, o) {
  const name = 'bench-pagedb-worker';
  let db;
  return {
    name: 'pagedb-worker',
    settings: `pagedb sync API (openInWorker) in a dedicated worker, XChaCha20-Poly1305, cacheBytes ${o.cacheBytes}, 4 KiB pages, every commit durable (OPFS flush)`,
    async open() {
      const { openInWorker } = await import('/dist/sync.js');
      await opfsRemove(name);
      db = await openInWorker(name, { key: KEY, cacheBytes: o.cacheBytes });
    },
    bulk(from, to) {
      const t = db.beginWrite();
      for (let i = from; i < to; i++) t.put(TABLE, d.keys[i], d.vals[i]);
      t.commit();
    },
    reads(idx) {
      const t = db.beginRead();
      let bad = 0;
      for (let r = 0; r < idx.length; r++) if (!equal(t.get(TABLE, d.keys[idx[r]]), d.vals[idx[r]])) bad++;
      t.commit();
      return bad;
    },
    async awaitedGets(idx) {
      const t = db.beginRead();
      let bad = 0;
      for (let r = 0; r < idx.length; r++) if (!equal(await t.get(TABLE, d.keys[idx[r]]), d.vals[idx[r]])) bad++;
      t.commit();
      return bad;
    },
    ranges(idx, len, ok, expected) {
      const t = db.beginRead();
      let bad = 0;
      for (let r = 0; r < idx.length; r++) {
        const s = idx[r];
        // maxBytes sized for 10 entries of this workload (the default is 1 MiB)
        const { entries } = t.scan(TABLE, { gte: d.keys[s], limit: len }, len, len * 192 + 256);
        if (entries.length !== expected(s) || !entries.every(([k, v], j) => ok(s, j, k, v))) bad++;
      }
      t.commit();
      return bad;
    },
    async awaitedRanges(idx, len, ok, expected) {
      const t = db.beginRead();
      let bad = 0;
      for (let r = 0; r < idx.length; r++) {
        const s = idx[r];
        const { entries } = await t.scan(TABLE, { gte: d.keys[s], limit: len }, len, len * 192 + 256);
        if (entries.length !== expected(s) || !entries.every(([k, v], j) => ok(s, j, k, v))) bad++;
      }
      t.commit();
      return bad;
    },
    remove(from, to) {
      const t = db.beginWrite();
      for (let i = from; i < to; i++) if (!t.delete(TABLE, d.keys[i])) throw new Error(`pagedb: key ${i} missing at removal`);
      t.commit();
    },
    probe(i) {
      const t = db.beginRead();
      const v = t.get(TABLE, d.keys[i]);
      t.commit();
      return v !== undefined;
    },
    close() { db.close(); },
    async size() { return { bytes: await opfsDirSize(name), how: 'sum of the OPFS files of the database directory' }; },
  };
}

// ---- pagedb, promise API from the page ----
// Reads and ranges are issued 1,000 at a time without awaiting each (the API coalesces the
// calls of one tick into a few worker messages and runs them in call order on one snapshot),
// as an application reading many keys would.
// `client`: this tab must be a client of an owner tab that opened database TAB_DB first.
// `inWorker`: called inside a dedicated worker, which must own the database and run the
// engine in its own thread (db.engineLocation 'this-thread').
export function pagedbPromise(d, o, client = false, inWorker = false) {
  const name = client ? TAB_DB : inWorker ? 'bench-pagedb-promise-worker' : 'bench-pagedb-promise';
  let db, transport;
  const CHUNK = 1000;
  const how = inWorker
    ? `pagedb promise API (open) called inside a dedicated worker that owns the database: the engine runs in that worker's thread (no message hop: each call runs the engine synchronously and resolves; reads/ranges issued ${CHUNK} at a time), XChaCha20-Poly1305, cacheBytes ${o.cacheBytes}, every commit durable (one OPFS flush)`
    : `pagedb promise API (open) from the page (engine in its worker; the calls of one tick are coalesced into messages of up to 256 requests; reads/ranges issued ${CHUNK} at a time), XChaCha20-Poly1305, cacheBytes ${o.cacheBytes}, every commit durable`;
  return {
    name: client ? 'pagedb-tab-client' : inWorker ? 'pagedb-promise-worker' : 'pagedb-promise',
    get settings() {
      return client ? `the same ${how}, called from a second tab of the same browser context: a client of the owner tab (which opened the database first and runs the engine in its worker), calls travel over ${transport ?? 'the tabs transport'}` : how;
    },
    async open() {
      const { open } = await import('/dist/index.js');
      if (!client) await opfsRemove(name);
      db = await open(name, { key: KEY, cacheBytes: o.cacheBytes });
      if (client && db.ep?.isOwner !== false) throw new Error('pagedb-tab-client: this tab became the owner (is the owner tab open?)');
      if (inWorker && db.engineLocation !== 'this-thread') throw new Error(`pagedb-promise-worker: engine is in '${db.engineLocation}', not this thread`);
    },
    awaitedGets(idx) {
      return db.read(async (tx) => {
        const t = tx.table(TABLE);
        let bad = 0;
        for (let r = 0; r < idx.length; r++) if (!equal(await t.get(d.keys[idx[r]]), d.vals[idx[r]])) bad++;
        return bad;
      });
    },
    awaitedRanges(idx, len, ok, expected) {
      return db.read(async (tx) => {
        let bad = 0;
        for (let r = 0; r < idx.length; r++) {
          const s = idx[r], entries = [];
          for await (const e of tx.range(TABLE, { gte: d.keys[s], limit: len })) entries.push(e);
          if (entries.length !== expected(s) || !entries.every(([k, v], j) => ok(s, j, k, v))) bad++;
        }
        return bad;
      });
    },
    // Where an awaited get goes: the same gets, in one read transaction, (1) through the
    // public API (tx.table(t).get, awaited one at a time), then replayed with the arguments
    // each layer received during (1): (2) awaited Database endpoint calls (db.ep.call: the
    // tabs endpoint, the owner's session and everything below), and in a dedicated worker
    // (3) awaited LocalEndpoint.call (the in-thread endpoint: Handler.run + one resolved
    // promise) and (4) Handler.run called synchronously (the engine's get through the op
    // table, value copied out of the wasm heap); (5) one awaited already-resolved promise,
    // the floor of any promise API. µs per get, each the mean over idx.length calls.
    // Reads internal fields (db.ep, Handler, LocalEndpoint of /dist), patched only while (1)
    // runs, to record the arguments; the bench's own instrumentation, not an API.
    async getBreakdown(idx) {
      const H = inWorker ? (await import('/dist/handler.js')).Handler : undefined;
      const L = inWorker ? (await import('/dist/local.js')).LocalEndpoint : undefined;
      const ep = db.ep;
      if (!ep || typeof ep.call !== 'function') return undefined;
      return db.read(async (tx) => {
        const t = tx.table(TABLE);
        await t.get(d.keys[idx[0]]); // begins the transaction
        const rec = { ep: [], lep: [], h: [], lepThis: undefined, hThis: undefined };
        const epCall = ep.call, hRun = H?.prototype.run, lCall = L?.prototype.call;
        ep.call = function (op, a, tr) { if (op === 'get') rec.ep.push(a); return epCall.call(this, op, a, tr); };
        if (H) H.prototype.run = function (op, a) { if (op === 'get') { rec.hThis = this; rec.h.push(a); } return hRun.call(this, op, a); };
        if (L) L.prototype.call = function (op, a, tr) { if (op === 'get') { rec.lepThis = this; rec.lep.push(a); } return lCall.call(this, op, a, tr); };
        const per = (t0) => +(((performance.now() - t0) * 1000) / idx.length).toFixed(2);
        let bad = 0, t0 = performance.now();
        try {
          for (let r = 0; r < idx.length; r++) if (!equal(await t.get(d.keys[idx[r]]), d.vals[idx[r]])) bad++;
        } finally {
          delete ep.call; // the instance property shadowed the prototype's method
          if (ep.call !== epCall) ep.call = epCall;
          if (H) H.prototype.run = hRun;
          if (L) L.prototype.call = lCall;
        }
        if (bad) throw new Error(`breakdown: ${bad} wrong values`);
        if (rec.ep.length !== idx.length) throw new Error(`breakdown: recorded ${rec.ep.length} endpoint calls for ${idx.length} gets`);
        // each layer BREAKDOWN_ROUNDS times, interleaved; the minimum per layer (warm-up and
        // garbage collection make single loops differ by up to 2x)
        const out = {};
        const keep = (k, v) => { out[k] = Math.min(out[k] ?? Infinity, v); };
        for (let round = 0; round < BREAKDOWN_ROUNDS; round++) {
          t0 = performance.now();
          for (let r = 0; r < idx.length; r++) await t.get(d.keys[idx[r]]);
          keep('api', per(t0));
          t0 = performance.now();
          for (const a of rec.ep) await ep.call('get', a);
          keep('endpoint', per(t0));
          if (rec.lepThis && rec.lep.length === idx.length) {
            t0 = performance.now();
            for (const a of rec.lep) await rec.lepThis.call('get', a);
            keep('localEndpoint', per(t0));
          }
          if (rec.hThis && rec.h.length === idx.length) {
            t0 = performance.now();
            for (const a of rec.h) rec.hThis.run('get', a);
            keep('handlerRun', per(t0));
          }
          t0 = performance.now();
          for (let r = 0; r < idx.length; r++) await Promise.resolve(r);
          keep('resolvedPromise', per(t0));
        }
        return out;
      });
    },
    bulk(from, to) {
      return db.write((tx) => {
        const t = tx.table(TABLE);
        for (let i = from; i < to; i++) t.put(d.keys[i], d.vals[i]);
      });
    },
    reads(idx) {
      return db.read(async (tx) => {
        const t = tx.table(TABLE);
        let bad = 0;
        for (let c = 0; c < idx.length; c += CHUNK) {
          const part = idx.subarray(c, c + CHUNK);
          const vals = await Promise.all(Array.from(part, (i) => t.get(d.keys[i])));
          vals.forEach((v, j) => { if (!equal(v, d.vals[part[j]])) bad++; });
        }
        return bad;
      });
    },
    ranges(idx, len, ok, expected) {
      return db.read(async (tx) => {
        let bad = 0;
        const one = async (s) => {
          const entries = [];
          for await (const e of tx.range(TABLE, { gte: d.keys[s], limit: len })) entries.push(e);
          if (entries.length !== expected(s) || !entries.every(([k, v], j) => ok(s, j, k, v))) bad++;
        };
        for (let c = 0; c < idx.length; c += CHUNK) await Promise.all(Array.from(idx.subarray(c, c + CHUNK), one));
        return bad;
      });
    },
    remove(from, to) {
      return db.write((tx) => {
        const t = tx.table(TABLE);
        for (let i = from; i < to; i++) t.delete(d.keys[i]);
      });
    },
    probe(i) { return db.read(async (tx) => (await tx.table(TABLE).get(d.keys[i])) !== undefined); },
    close() {
      if (client) {
        // internal fields of TabEndpoint (js/src/tabs.ts), read only to report the transport used
        if (db.ep?.isOwner !== false) throw new Error('pagedb-tab-client: this tab became the owner during the run');
        transport = db.ep?.link ? 'a MessagePort brokered by the SharedWorker' : 'the BroadcastChannel (no broker port)';
      }
      return db.close();
    },
    async size() {
      if (client) return { bytes: null, how: 'sum of the OPFS files, measured by the owner tab after it closed' };
      return { bytes: await opfsDirSize(name), how: 'sum of the OPFS files of the database directory' };
    },
  };
}

// ---- the owner tab of pagedb-tab-client: opens TAB_DB first (becoming its owner) and keeps it open ----
export const TAB_DB = 'bench-pagedb-tabs';
let ownerDb;
export async function openOwner(o) {
  const { open } = await import('/dist/index.js');
  await opfsRemove(TAB_DB);
  ownerDb = await open(TAB_DB, { key: KEY, cacheBytes: o.cacheBytes });
  for (let i = 0; i < 200 && !ownerDb.ep?.isOwner; i++) await new Promise((r) => setTimeout(r, 50));
  if (!ownerDb.ep?.isOwner) throw new Error('pagedb-tab-client: the first tab did not become the owner');
}
/** Close the owner tab's Database; returns the database's size on OPFS afterwards (bytes). */
export async function closeOwner() {
  await ownerDb.close();
  ownerDb = undefined;
  return opfsDirSize(TAB_DB);
}

// ---- @sqlite.org/sqlite-wasm, opfs-sahpool VFS, in this worker ----
export function sqliteWasm(d, o) {
  let sqlite3, pool, db, ins, get, rng, del, version, pragmas = '';
  const DIR = '.bench-sahpool';
  const cacheKiB = Math.round(o.cacheBytes / 1024);
  const txn = (fn) => {
    db.exec('BEGIN');
    try { fn(); } catch (e) { db.exec('ROLLBACK'); throw e; }
    db.exec('COMMIT');
  };
  return {
    name: 'sqlite-wasm',
    get settings() {
      return `@sqlite.org/sqlite-wasm ${version ?? ''} opfs-sahpool VFS in a dedicated worker, WITHOUT ROWID table, prepared statements, ` +
        `${pragmas} (the VFS has no WAL), one transaction per phase batch, no encryption`;
    },
    async open() {
      const init = (await import('/node_modules/@sqlite.org/sqlite-wasm/dist/index.mjs')).default;
      sqlite3 = await init();
      version = sqlite3.version.libVersion;
      pool = await sqlite3.installOpfsSAHPoolVfs({ name: 'bench-sahpool', directory: DIR, clearOnInit: true, initialCapacity: 6 });
      db = new pool.OpfsSAHPoolDb('/bench.sqlite3');
      db.exec(`PRAGMA synchronous=FULL; PRAGMA cache_size=-${cacheKiB};`);
      // the settings as SQLite reports them (synchronous 2 = FULL)
      pragmas = ['journal_mode', 'synchronous', 'cache_size', 'page_size']
        .map((n) => `${n}=${db.selectValue(`PRAGMA ${n}`)}`).join(', ');
      db.exec('CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID');
      ins = db.prepare('INSERT INTO kv (k, v) VALUES (?, ?)');
      get = db.prepare('SELECT v FROM kv WHERE k = ?');
      rng = db.prepare('SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT ?');
      del = db.prepare('DELETE FROM kv WHERE k = ?');
    },
    bulk(from, to) {
      txn(() => {
        for (let i = from; i < to; i++) { ins.bind([d.keys[i], d.vals[i]]); ins.stepReset(); }
      });
    },
    reads(idx) {
      let bad = 0;
      txn(() => {
        for (let r = 0; r < idx.length; r++) {
          get.bind([d.keys[idx[r]]]);
          const v = get.step() ? get.get(0) : undefined;
          get.reset();
          if (!equal(v, d.vals[idx[r]])) bad++;
        }
      });
      return bad;
    },
    async awaitedGets(idx) {
      // the same gets one at a time, each awaited (sqlite-wasm's API is synchronous here)
      const one = async (k) => {
        get.bind([k]);
        const v = get.step() ? get.get(0) : undefined;
        get.reset();
        return v;
      };
      let bad = 0;
      db.exec('BEGIN');
      try {
        for (let r = 0; r < idx.length; r++) if (!equal(await one(d.keys[idx[r]]), d.vals[idx[r]])) bad++;
      } finally {
        db.exec('COMMIT');
      }
      return bad;
    },
    ranges(idx, len, ok, expected) {
      let bad = 0;
      txn(() => {
        for (let r = 0; r < idx.length; r++) {
          const s = idx[r];
          rng.bind([d.keys[s], len]);
          let j = 0, good = true;
          while (rng.step()) { if (!ok(s, j, rng.get(0), rng.get(1))) good = false; j++; }
          rng.reset();
          if (!good || j !== expected(s)) bad++;
        }
      });
      return bad;
    },
    async awaitedRanges(idx, len, ok, expected) {
      const one = async (k) => {
        const rows = [];
        rng.bind([k, len]);
        while (rng.step()) rows.push([rng.get(0), rng.get(1)]);
        rng.reset();
        return rows;
      };
      let bad = 0;
      db.exec('BEGIN');
      try {
        for (let r = 0; r < idx.length; r++) {
          const s = idx[r], rows = await one(d.keys[s]);
          if (rows.length !== expected(s) || !rows.every(([k, v], j) => ok(s, j, k, v))) bad++;
        }
      } finally {
        db.exec('COMMIT');
      }
      return bad;
    },
    remove(from, to) {
      txn(() => {
        for (let i = from; i < to; i++) {
          del.bind([d.keys[i]]); del.stepReset();
          if (db.changes() !== 1) throw new Error(`sqlite: key ${i} missing at removal`);
        }
      });
    },
    probe(i) {
      get.bind([d.keys[i]]);
      const has = get.step();
      get.reset();
      return has;
    },
    close() {
      const pc = db.selectValue('PRAGMA page_count'), ps = db.selectValue('PRAGMA page_size');
      this._bytes = pc * ps;
      for (const s of [ins, get, rng, del]) s.finalize();
      db.close();
    },
    async size() { return { bytes: this._bytes, how: 'PRAGMA page_count x page_size at close (the pool preallocates its OPFS files)' }; },
  };
}

// ---- @sqlite.org/sqlite-wasm's own worker promiser (sqlite3Worker1Promiser) from the page ----
// The promiser posts one message per call to a Worker1 worker (sqlite_worker1.mjs: opfs-sahpool
// installed first); answers are matched by message id, so calls can be issued without awaiting
// each. Writes: BEGIN, the rows as multi-row INSERTs of up to ROWS rows per exec, COMMIT (a
// one-insert commit is one autocommit INSERT); reads and ranges: one exec per get or range,
// issued 1,000 at a time like the pagedb promise API, inside BEGIN/COMMIT; removals: multi-row
// DELETE ... WHERE k IN (...).
export function sqlitePromiser(d, o) {
  const ROWS = 200, CHUNK = 1000;
  const cacheKiB = Math.round(o.cacheBytes / 1024);
  let worker, q, version, pragmas = '';
  const exec = async (sql, bind, more = {}) => (await q('exec', { sql, bind, rowMode: 'array', resultRows: [], ...more })).result;
  const rows = async (sql, bind) => (await exec(sql, bind)).resultRows;
  const inTxn = async (fn) => {
    await exec('BEGIN');
    let r;
    try { r = await fn(); } catch (e) { await exec('ROLLBACK').catch(() => undefined); throw e; }
    await exec('COMMIT');
    return r;
  };
  const GET = 'SELECT v FROM kv WHERE k = ?', RANGE = 'SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT ?';
  return {
    name: 'sqlite-promiser',
    get settings() {
      return `@sqlite.org/sqlite-wasm ${version ?? ''} sqlite3Worker1Promiser from the page (its Worker1 API in a dedicated worker, opfs-sahpool VFS), ` +
        `WITHOUT ROWID table, ${pragmas}, writes as multi-row INSERTs of ${ROWS} rows per message between BEGIN and COMMIT, ` +
        `a one-insert commit one autocommit INSERT, reads and ranges one message each issued ${CHUNK} at a time, no encryption`;
    },
    async open() {
      const { sqlite3Worker1Promiser } = await import('/node_modules/@sqlite.org/sqlite-wasm/dist/index.mjs');
      q = await sqlite3Worker1Promiser({
        worker: () => (worker = new Worker(new URL('./sqlite_worker1.mjs', import.meta.url), { type: 'module' })),
        onerror: (...a) => console.error('sqlite3Worker1Promiser', ...a),
      });
      const opened = await q('open', { filename: '/bench-promiser.sqlite3', vfs: 'opfs-sahpool' });
      if (opened.result.vfs !== 'opfs-sahpool') throw new Error(`sqlite-promiser: opened on VFS ${opened.result.vfs}`);
      version = (await q('config-get', {})).result.version.libVersion;
      await exec(`PRAGMA synchronous=FULL; PRAGMA cache_size=-${cacheKiB};`);
      const ps = [];
      for (const n of ['journal_mode', 'synchronous', 'cache_size', 'page_size']) ps.push(`${n}=${(await rows(`PRAGMA ${n}`))[0][0]}`);
      pragmas = ps.join(', ');
      await exec('CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID');
    },
    async bulk(from, to) {
      if (to - from === 1) { await exec('INSERT INTO kv (k, v) VALUES (?, ?)', [d.keys[from], d.vals[from]]); return; }
      await inTxn(() => {
        const ps = [];
        for (let i = from; i < to; i += ROWS) {
          const e = Math.min(to, i + ROWS), bind = [];
          for (let j = i; j < e; j++) bind.push(d.keys[j], d.vals[j]);
          ps.push(exec('INSERT INTO kv (k, v) VALUES ' + Array(e - i).fill('(?, ?)').join(', '), bind));
        }
        return Promise.all(ps);
      });
    },
    reads(idx) {
      return inTxn(async () => {
        let bad = 0;
        for (let c = 0; c < idx.length; c += CHUNK) {
          const part = idx.subarray(c, c + CHUNK);
          const rs = await Promise.all(Array.from(part, (i) => rows(GET, [d.keys[i]])));
          rs.forEach((r, j) => { if (!equal(r[0]?.[0], d.vals[part[j]])) bad++; });
        }
        return bad;
      });
    },
    awaitedGets(idx) {
      return inTxn(async () => {
        let bad = 0;
        for (let r = 0; r < idx.length; r++) if (!equal((await rows(GET, [d.keys[idx[r]]]))[0]?.[0], d.vals[idx[r]])) bad++;
        return bad;
      });
    },
    ranges(idx, len, ok, expected) {
      return inTxn(async () => {
        let bad = 0;
        const one = async (s) => {
          const rs = await rows(RANGE, [d.keys[s], len]);
          if (rs.length !== expected(s) || !rs.every(([k, v], j) => ok(s, j, k, v))) bad++;
        };
        for (let c = 0; c < idx.length; c += CHUNK) await Promise.all(Array.from(idx.subarray(c, c + CHUNK), one));
        return bad;
      });
    },
    awaitedRanges(idx, len, ok, expected) {
      return inTxn(async () => {
        let bad = 0;
        for (let r = 0; r < idx.length; r++) {
          const s = idx[r], rs = await rows(RANGE, [d.keys[s], len]);
          if (rs.length !== expected(s) || !rs.every(([k, v], j) => ok(s, j, k, v))) bad++;
        }
        return bad;
      });
    },
    async remove(from, to) {
      await inTxn(async () => {
        const ps = [];
        for (let i = from; i < to; i += ROWS) {
          const e = Math.min(to, i + ROWS);
          ps.push(exec(`DELETE FROM kv WHERE k IN (${Array(e - i).fill('?').join(', ')})`, d.keys.slice(i, e), { countChanges: true })
            .then((r) => { if (r.changeCount !== e - i) throw new Error(`sqlite-promiser: ${e - i - r.changeCount} keys missing at removal`); }));
        }
        await Promise.all(ps);
      });
    },
    async probe(i) { return (await rows(GET, [d.keys[i]])).length === 1; },
    async close() {
      const pc = (await rows('PRAGMA page_count'))[0][0], ps = (await rows('PRAGMA page_size'))[0][0];
      this._bytes = pc * ps;
      await q('close', {});
      worker.terminate();
    },
    async size() { return { bytes: this._bytes, how: 'PRAGMA page_count x page_size at close (the pool preallocates its OPFS files)' }; },
  };
}

/**
 * The floors under an awaited call, measured on the page: one postMessage round trip to a
 * dedicated worker that echoes it (a small object like a get request) and one awaited
 * already-resolved promise; µs each, mean over `count`.
 */
export async function hopBaseline(count = 5000) {
  const w = new Worker(new URL('./echo_worker.mjs', import.meta.url), { type: 'module' });
  try {
    let resolve;
    w.onmessage = (ev) => resolve(ev.data);
    const rt = () => new Promise((r) => { resolve = r; w.postMessage({ op: 'get', txn: 1, table: TABLE, key: new Uint8Array(24) }); });
    for (let i = 0; i < 200; i++) await rt(); // warm-up
    let t0 = performance.now();
    for (let i = 0; i < count; i++) await rt();
    const echo = ((performance.now() - t0) * 1000) / count;
    t0 = performance.now();
    for (let i = 0; i < count; i++) await Promise.resolve(i);
    const micro = ((performance.now() - t0) * 1000) / count;
    return { count, postMessageRoundTripUs: +echo.toFixed(2), resolvedPromiseUs: +micro.toFixed(3) };
  } finally {
    w.terminate();
  }
}

// ---- raw IndexedDB from the page, durability 'strict' ----
export function indexedDb(d, o) {
  const name = 'bench-idb';
  let db, before = 0;
  const req = (r) => new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  const done = (t) => new Promise((res, rej) => { t.oncomplete = res; t.onerror = () => rej(t.error); t.onabort = () => rej(t.error ?? new Error('aborted')); });
  const rw = () => db.transaction('kv', 'readwrite', { durability: 'strict' });
  const ro = () => db.transaction('kv', 'readonly');
  return {
    name: 'indexeddb',
    settings: "raw IndexedDB from the page, binary (ArrayBuffer) keys, Uint8Array values, every readwrite transaction durability: 'strict', all requests of a phase batch issued in one transaction, no encryption",
    async open() {
      await req(indexedDB.deleteDatabase(name));
      before = (await navigator.storage.estimate()).usage ?? 0;
      const r = indexedDB.open(name, 1);
      r.onupgradeneeded = () => r.result.createObjectStore('kv');
      db = await req(r);
    },
    async bulk(from, to) {
      const t = rw(), s = t.objectStore('kv');
      for (let i = from; i < to; i++) s.put(d.vals[i], d.keys[i].buffer);
      t.commit();
      await done(t);
    },
    async reads(idx) {
      const t = ro(), s = t.objectStore('kv');
      let bad = 0;
      for (let r = 0; r < idx.length; r++) {
        const i = idx[r], q = s.get(d.keys[i].buffer);
        q.onsuccess = () => { if (!equal(q.result, d.vals[i])) bad++; };
      }
      await done(t);
      return bad;
    },
    async ranges(idx, len, ok, expected) {
      const t = ro(), s = t.objectStore('kv');
      let bad = 0;
      for (let r = 0; r < idx.length; r++) {
        const st = idx[r];
        let j = 0, good = true;
        const c = s.openCursor(IDBKeyRange.lowerBound(d.keys[st].buffer));
        c.onsuccess = () => {
          const cur = c.result;
          if (cur && j < len) {
            if (!ok(st, j, new Uint8Array(cur.key), cur.value)) good = false;
            j++;
            if (j < len) { cur.continue(); return; }
          }
          if (!good || j !== expected(st)) bad++;
        };
      }
      await done(t);
      return bad;
    },
    // one readonly transaction; each request awaited before the next is made (a promise
    // resolved in a request's success event keeps the transaction active for the next one)
    async awaitedGets(idx) {
      const t = ro(), s = t.objectStore('kv');
      let bad = 0;
      for (let r = 0; r < idx.length; r++) if (!equal(await req(s.get(d.keys[idx[r]].buffer)), d.vals[idx[r]])) bad++;
      await done(t);
      return bad;
    },
    // a range of len entries: getAllKeys and getAll on the same key range with count len,
    // issued together and awaited together (one round; faster here than a cursor walk), the
    // next range only after this one's answers
    async awaitedRanges(idx, len, ok, expected) {
      const t = ro(), s = t.objectStore('kv');
      let bad = 0;
      for (let r = 0; r < idx.length; r++) {
        const st = idx[r], kr = IDBKeyRange.lowerBound(d.keys[st].buffer);
        const [ks, vs] = await Promise.all([req(s.getAllKeys(kr, len)), req(s.getAll(kr, len))]);
        if (ks.length !== expected(st) || vs.length !== ks.length || !ks.every((k, j) => ok(st, j, new Uint8Array(k), vs[j]))) bad++;
      }
      await done(t);
      return bad;
    },
    async remove(from, to) {
      const t = rw(), s = t.objectStore('kv');
      for (let i = from; i < to; i++) s.delete(d.keys[i].buffer);
      t.commit();
      await done(t);
    },
    async probe(i) {
      const t = ro();
      const v = await req(t.objectStore('kv').get(d.keys[i].buffer));
      return v !== undefined;
    },
    close() { db.close(); },
    async size() {
      const after = (await navigator.storage.estimate()).usage ?? 0;
      return { bytes: Math.max(0, after - before), how: 'navigator.storage.estimate() usage growth (approximate: Chromium\'s LevelDB files, uncompacted)' };
    },
  };
}

export const ADAPTERS = { 'pagedb-worker': pagedbSync, 'pagedb-promise': (d, o) => pagedbPromise(d, o),
  'pagedb-tab-client': (d, o) => pagedbPromise(d, o, true), 'pagedb-promise-worker': (d, o) => pagedbPromise(d, o, false, true),
  'sqlite-wasm': sqliteWasm, 'sqlite-promiser': sqlitePromiser, indexeddb: indexedDb };
export const IN_WORKER = new Set(['pagedb-worker', 'pagedb-promise-worker', 'sqlite-wasm']);
