// Issue 12, item 1: ownership moves when the owner tab dies, and nothing is lost, applied
// twice or left locked. The owner is crashed (CDP Page.crash) while a client's commit is
// stalled in the owner's worker just before, or just after, its header write (the commit
// point, FORMAT.md §6): the client gets UNKNOWN_OUTCOME, another tab takes over within a
// bounded time, the database is at the previous or the new commit, verify passes, and the
// retry with the same idempotency id applies exactly once. Then a reload storm.
import { test, expect, type Page } from '@playwright/test';
import { clearOpfs, oneOwner, openTab } from './tabs_util';

test.beforeEach(async ({ page }) => clearOpfs(page));

/** The client's write: a read-modify-write of a counter with an idempotency id. */
async function clientWrite(p: Page, id: string): Promise<string> {
  return p.evaluate((id) => {
    const w = window as any;
    return w.db.write(async (tx: any) => {
      const t = tx.table('t');
      const n = Number(w.dec(await t.get('counter')) ?? 0);
      t.put('counter', String(n + 1));
      t.put(`by-${id}`, 'x');
    }, { idempotencyId: id }).then(() => 'ok', (e: any) => e.codeName);
  }, id);
}

for (const when of ['before', 'after'] as const) {
  test(`owner crashed while a commit is stalled ${when} its header write: UNKNOWN_OUTCOME, takeover, exactly once`, async ({ context }) => {
    const faults = encodeURIComponent(JSON.stringify(when === 'before' ? { stallBeforeHeaderMs: 4000 } : { stallAfterHeaderMs: 4000 }));
    const a = await openTab(context, 'crash', `&faults=${faults}`); // first: the owner, with the stall
    const b = await openTab(context, 'crash');
    expect(await oneOwner([a, b])).toBe(a);
    // a commit that is not stalled cannot be made through a (every header write stalls), so
    // the starting state is the created database: counter absent
    const pending = b.evaluate(() => {
      const w = window as any;
      w.first = w.db.write(async (tx: any) => {
        const t = tx.table('t');
        const n = Number(w.dec(await t.get('counter')) ?? 0);
        t.put('counter', String(n + 1));
        t.put('by-op1', 'x');
      }, { idempotencyId: 'op1' }).then(() => 'ok', (e: any) => e.codeName);
    });
    await pending;
    await new Promise((r) => setTimeout(r, 1000)); // the worker is now busy-waiting at the header write
    const cdp = await context.newCDPSession(a);
    const t0 = Date.now();
    cdp.send('Page.crash').catch(() => undefined);
    expect(await b.evaluate(() => (window as any).first)).toBe('PAGEDB_UNKNOWN_OUTCOME');
    // b takes over within a bounded time
    await b.waitForFunction(() => (window as any).owner(), undefined, { timeout: 10_000 });
    const took = Date.now() - t0;
    expect(took).toBeLessThan(10_000);
    const state = await b.evaluate(async () => {
      const w = window as any;
      return { counter: w.dec(await w.db.read((tx: any) => tx.table('t').get('counter'))) ?? null, pages: await w.db.verify() };
    });
    // the previous commit (nothing) or the new one, never anything else
    expect(state.counter).toBe(when === 'before' ? null : '1');
    // a commit the dead owner made but never announced is reported to subscribers as a gap
    const gaps = await b.evaluate(() => (window as any).changes.filter((c: any) => c.gap).length);
    expect(gaps).toBe(when === 'before' ? 0 : 1);
    expect(state.pages).toBeGreaterThan(0);
    // the retry applies exactly once: applied now, or reported as already committed
    expect(await clientWrite(b, 'op1')).toBe(when === 'before' ? 'ok' : 'PAGEDB_EEXIST');
    expect(await clientWrite(b, 'op1')).toBe('PAGEDB_EEXIST');
    expect(await b.evaluate(async () => (window as any).dec(await (window as any).db.read((tx: any) => tx.table('t').get('counter'))))).toBe('1');
    // the reserved idempotency table is not listed
    expect(await b.evaluate(async () => (await (window as any).db.tables()).map((t: any) => t.name))).toEqual(['t']);
    console.log(`crash ${when} header: takeover in ${took} ms`);
  });
}

const STORM_TABS = 5;
const STORM_RELOADS = Number(process.env.PAGEDB_RELOAD_STORM ?? 8);

test(`reload storm: ${STORM_TABS} tabs x ${STORM_RELOADS} random reloads, no deadlock, no error reaches the app`, async ({ context }) => {
  test.setTimeout(Math.max(60_000, STORM_RELOADS * 4_000));
  const tabs: Page[] = [];
  for (let i = 0; i < STORM_TABS; i++) tabs.push(await openTab(context, 'storm'));
  const done: string[] = [];
  const errors: string[] = [];
  // each tab, after every (re)load, commits one key (retrying UNKNOWN_OUTCOME with its
  // idempotency id: the owner may be the tab being reloaded), then reloads after a random pause
  await Promise.all(tabs.map(async (p, i) => {
    for (let r = 0; r <= STORM_RELOADS; r++) {
      if (r > 0) {
        await new Promise((res) => setTimeout(res, Math.random() * 150));
        await p.reload();
        await p.waitForFunction(() => (window as any).ready === true, undefined, { timeout: 20_000 });
      }
      const id = `t${i}-r${r}`;
      const res = await p.evaluate(async (id) => {
        const w = window as any;
        if (w.openError) return `open: ${w.openError.codeName} ${w.openError.message}`;
        for (let attempt = 0; attempt < 5; attempt++) {
          try {
            await w.db.write((tx: any) => tx.table('t').put(id, 'x'), { idempotencyId: id });
            return 'ok';
          } catch (e: any) {
            if (e.codeName === 'PAGEDB_EEXIST') return 'ok';
            if (e.codeName !== 'PAGEDB_UNKNOWN_OUTCOME') return `${e.codeName} ${e.message}`;
          }
        }
        return 'UNKNOWN_OUTCOME 5 times';
      }, id).catch((e) => (String(e).includes('Execution context was destroyed') ? 'navigated' : String(e)));
      if (res === 'ok') done.push(id);
      else errors.push(`${id}: ${res}`);
    }
  }));
  expect(errors).toEqual([]);
  const owner = await oneOwner(tabs);
  const r = await owner.evaluate(async () => {
    const w = window as any, keys: string[] = [];
    for await (const [k] of w.db.iterate('t')) keys.push(w.dec(k));
    return { keys, pages: await w.db.verify() };
  });
  expect(r.keys.sort()).toEqual([...done].sort());
  expect(r.pages).toBeGreaterThan(0);
});

test('the owner tab closes its Database while two clients write: they carry on with a new owner, nothing lost', async ({ context }) => {
  const a = await openTab(context, 'handoff');
  const clients = [await openTab(context, 'handoff'), await openTab(context, 'handoff')];
  expect(await oneOwner([a, ...clients])).toBe(a);
  for (const [n, c] of clients.entries())
    await c.evaluate((n) => {
      const w = window as any;
      w.results = [];
      w.loop = (async () => {
        for (let i = 0; i < 40; i++) {
          const r = await w.db.write((tx: any) => tx.table('t').put(`c${n}-${String(i).padStart(2, '0')}`, 'v'), { idempotencyId: `c${n}-${i}` })
            .then(() => 'ok', (e: any) => `${e.codeName} ${e.message}`);
          w.results.push(r);
        }
      })();
    }, n);
  await clients[0].waitForFunction(() => (window as any).results.length >= 10);
  await a.evaluate(() => (window as any).db.close());
  for (const c of clients) {
    await c.evaluate(() => (window as any).loop);
    // a graceful close answers everything it accepted: no UNKNOWN_OUTCOME, no error
    expect((await c.evaluate(() => (window as any).results)).filter((r: string) => r !== 'ok')).toEqual([]);
  }
  const owner = await oneOwner(clients);
  expect(await owner.evaluate(async () => [await (window as any).db.table('t').count(), await (window as any).db.verify() > 0])).toEqual([80, true]);
});

test('files still held by another context (NoModificationAllowedError): the new owner retries with backoff, the app sees no error', async ({ page, context }) => {
  const a = await openTab(context, 'held');
  await a.evaluate(async () => {
    const w = window as any;
    await w.db.write((tx: any) => tx.table('t').put('k', 'v'));
    await w.db.close();
  });
  // a worker of this page holds main.pdb's sync access handle for 1.5 s (as a reloaded
  // owner's worker may, briefly), while another tab opens the database
  await page.goto('/tests/browser/pages/app.html');
  await page.evaluate(() => {
    const src = `onmessage = async () => {
      const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('held');
      const h = await (await d.getFileHandle('main.pdb')).createSyncAccessHandle();
      postMessage('held');
      setTimeout(() => { h.close(); postMessage('released'); }, 1500);
    };`;
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    (window as any).holder = new Promise((r) => (w.onmessage = (e) => e.data === 'held' && r(undefined)));
    w.postMessage('go');
  });
  await page.evaluate(() => (window as any).holder);
  const t0 = Date.now();
  const b = await openTab(context, 'held');
  expect(await b.evaluate(() => (window as any).openError)).toBeUndefined();
  expect(Date.now() - t0).toBeGreaterThan(1000); // it did wait for the handle
  expect(await b.evaluate(async () => [(window as any).owner(), (window as any).dec(await (window as any).db.read((tx: any) => tx.table('t').get('k')))]))
    .toEqual([true, 'v']);
});
