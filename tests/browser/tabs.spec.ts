// Issue 12, item 1 and 2: many tabs on one database. Exactly one tab owns it (Web Lock);
// every other tab's Database goes through the owner; every commit is visible everywhere,
// nothing lost or duplicated, and each tab's subscription fires once per commit.
import { test, expect, type Page } from '@playwright/test';
import { clearOpfs, oneOwner, openTab } from './tabs_util';

test.beforeEach(async ({ page }) => clearOpfs(page));

for (const n of [2, 5]) {
  test(`${n} tabs write and read concurrently: every commit everywhere, once`, async ({ context }) => {
    const W = 20;
    const tabs: Page[] = [];
    for (let i = 0; i < n; i++) tabs.push(await openTab(context, `multi${n}`));
    for (const t of tabs) expect(await t.evaluate(() => (window as any).openError)).toBeUndefined();
    await oneOwner(tabs);
    // every tab writes W keys (one commit each) while reading its own writes back
    const results = await Promise.all(tabs.map((t, i) => t.evaluate(async ({ i, W }) => {
      const w = window as any, db = w.db, bad: string[] = [];
      for (let j = 0; j < W; j++) {
        const k = `tab${i}-${String(j).padStart(3, '0')}`;
        await db.write(async (tx: any) => {
          const t = tx.table('t');
          t.put(k, `v${j}`);
          const c = Number(w.dec(await t.get('counter')) ?? 0); // a read-modify-write across tabs
          t.put('counter', String(c + 1));
        });
        const v = w.dec(await db.read((tx: any) => tx.table('t').get(k)));
        if (v !== `v${j}`) bad.push(`${k}=${v}`);
      }
      return bad;
    }, { i, W })));
    for (const bad of results) expect(bad).toEqual([]);
    const total = n * W;
    for (const t of tabs) {
      const r = await t.evaluate(async () => {
        const w = window as any, db = w.db;
        const keys: string[] = [];
        for await (const [k] of db.iterate('t')) keys.push(w.dec(k));
        return { keys, counter: w.dec(await db.read((tx: any) => tx.table('t').get('counter'))), pages: await db.verify(),
          txnId: (await db.stat()).txnId };
      });
      expect(r.keys.length).toBe(total + 1);
      expect(r.counter).toBe(String(total)); // no lost update: writes are serialised across tabs
      expect(r.pages).toBeGreaterThan(0);
    }
    // subscriptions: once per commit per tab, in txn order, naming the table and key
    const txnId = await tabs[0].evaluate(async () => (await (window as any).db.stat()).txnId);
    for (const t of tabs) {
      await t.waitForFunction((total) => (window as any).changes.length >= total, total);
      const ch = await t.evaluate(() => (window as any).changes);
      expect(ch.length).toBe(total);
      const ids = ch.map((c: any) => c.txnId);
      expect(new Set(ids).size).toBe(total);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      expect(ids[ids.length - 1]).toBe(txnId);
      for (const c of ch) {
        expect(c.tables).toEqual(['t']);
        expect(c.realms).toEqual([0]);
        expect(c.keys[0]).toContain('counter');
      }
    }
  });
}

test('a read transaction is a stable snapshot in a client tab; filtered subscriptions', async ({ context }) => {
  const a = await openTab(context, 'snap');
  const b = await openTab(context, 'snap');
  const owner = await oneOwner([a, b]);
  const client = owner === a ? b : a;
  await owner.evaluate(() => (window as any).db.write((tx: any) => tx.table('t').put('k', 'old')));
  await client.evaluate(() => {
    const w = window as any;
    w.filtered = [];
    w.db.subscribe((c: any) => w.filtered.push(c.txnId), { table: 't', prefix: 'x' });
    w.snapshot = new Promise((resolve) => {
      w.db.read(async (tx: any) => {
        const first = w.dec(await tx.table('t').get('k'));
        await new Promise((r) => (w.continueRead = r));
        resolve([first, w.dec(await tx.table('t').get('k'))]);
      });
    });
  });
  await client.waitForFunction(() => typeof (window as any).continueRead === 'function');
  await owner.evaluate(() => (window as any).db.write((tx: any) => tx.table('t').put('k', 'new')));
  await client.evaluate(() => (window as any).db.write((tx: any) => tx.table('t').put('x1', '1')));
  // read-your-own-writes in the client, and the owner's write is visible outside the snapshot
  expect(await client.evaluate(async () => (window as any).dec(await (window as any).db.read((tx: any) => tx.table('t').get('k'))))).toBe('new');
  await client.evaluate(() => (window as any).continueRead());
  expect(await client.evaluate(() => (window as any).snapshot)).toEqual(['old', 'old']);
  await client.waitForFunction(() => (window as any).changes.length >= 3);
  // the prefix filter saw only the commit of x1
  expect(await client.evaluate(() => (window as any).filtered.length)).toBe(1);
});

for (const shared of [true, false]) {
  test(`transport: requests travel on ${shared ? 'a MessagePort brokered by the SharedWorker' : 'the BroadcastChannel when SharedWorker is missing'}`, async ({ context }) => {
    if (!shared) await context.addInitScript('delete globalThis.SharedWorker');
    const a = await openTab(context, 'wire');
    const b = await openTab(context, 'wire');
    const owner = await oneOwner([a, b]);
    const client = owner === a ? b : a;
    // a third listener on the database's channel counts the requests it sees
    await owner.evaluate(() => {
      const w = window as any;
      w.seen = 0;
      w.spy = new BroadcastChannel('pagedb:wire');
      w.spy.onmessage = (ev: MessageEvent) => (ev.data.k === 'req' ? w.seen++ : undefined);
    });
    expect(await client.evaluate(async () => {
      const w = window as any;
      for (let i = 0; i < 10; i++) await w.db.write((tx: any) => tx.table('t').put(`k${i}`, 'v'));
      return w.db.table('t').count();
    })).toBe(10);
    const seen = await owner.evaluate(() => (window as any).seen);
    if (shared) expect(seen).toBe(0);
    else expect(seen).toBeGreaterThanOrEqual(10);
  });
}

test('closed and crashed client tabs leave nothing at the owner (sessions, write gate)', async ({ context }) => {
  const a = await openTab(context, 'leak');
  const others = [await openTab(context, 'leak'), await openTab(context, 'leak'), await openTab(context, 'leak')];
  expect(await oneOwner([a, ...others])).toBe(a);
  const sessions = () => a.evaluate(() => (window as any).db.ep.sessions);
  await a.waitForFunction(() => (window as any).db.ep.sessions === 4);
  // one client crashes inside a write transaction (holding the write gate), one closes its
  // tab, one closes its Database
  await others[0].evaluate(() => {
    const w = window as any;
    w.db.write(async (tx: any) => {
      await tx.table('t').get('x'); // begun at the owner
      await new Promise(() => undefined); // never finishes
    });
  });
  await new Promise((r) => setTimeout(r, 300));
  const cdp = await context.newCDPSession(others[0]);
  cdp.send('Page.crash').catch(() => undefined);
  await others[1].close();
  await others[2].evaluate(() => (window as any).db.close());
  await a.waitForFunction(() => (window as any).db.ep.sessions === 1, undefined, { timeout: 10_000 });
  expect(await sessions()).toBe(1);
  // the crashed client's write transaction was aborted: the owner writes at once
  expect(await a.evaluate(async () => {
    const w = window as any;
    await w.db.write((tx: any) => tx.table('t').put('k', 'v'));
    return w.db.table('t').count();
  })).toBe(1);
});

test('two Databases on one database in the same tab: one owns, the other goes through it', async ({ context }) => {
  const a = await openTab(context, 'twice');
  const r = await a.evaluate(async () => {
    const w = window as any;
    const second = await w.pagedb.open('twice', w.openOptions);
    const seen: number[] = [];
    second.subscribe((c: any) => seen.push(c.txnId));
    await w.db.write((tx: any) => tx.table('t').put('a', '1'));
    await second.write((tx: any) => tx.table('t').put('b', '2'));
    const both = [w.dec(await second.read((tx: any) => tx.table('t').get('a'))), w.dec(await w.db.read((tx: any) => tx.table('t').get('b')))];
    await new Promise((res) => setTimeout(res, 100));
    await second.close();
    const after = await w.db.table('t').count(); // the first keeps working
    return { both, seen: seen.length, after, owners: [w.owner(), second.ep.isOwner] };
  });
  expect(r).toEqual({ both: ['1', '2'], seen: 2, after: 2, owners: [true, false] });
});
