// Defect 4 of issue 10: a page that went into the back/forward cache (pagehide) or was
// frozen must release the database's OPFS handles and, once restored (pageshow/resume),
// find its Database working again — transparently. Tested with a real back/forward
// navigation (Playwright launches Chromium with --disable-back-forward-cache by default:
// removed here) and with Chromium's lifecycle emulation (CDP Page.setWebLifecycleState).
import { test, expect, chromium, type Page, type BrowserContext } from '@playwright/test';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import config from './playwright.config';

test.use({ launchOptions: { ...config.use!.launchOptions, ignoreDefaultArgs: ['--disable-back-forward-cache'] } });

async function openPage(page: Page, db: string): Promise<void> {
  await page.goto(`/tests/browser/pages/lifecycle.html?db=${db}`);
  await page.waitForFunction(() => (window as any).ready === true);
}

test.beforeEach(async ({ page }) => {
  await page.goto('/tests/browser/pages/app.html');
  await page.waitForFunction(() => (window as any).ready === true);
  await page.evaluate(() => (window as any).clearOpfs());
});

test('back/forward cache: handles released on pagehide, database usable after the page is restored', async ({ page }) => {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Page.enable');
  const notCached: unknown[] = [];
  cdp.on('Page.backForwardCacheNotUsed', (e) => notCached.push(e));

  await openPage(page, 'bf');
  await page.evaluate(() => (window as any).db.write((tx: any) => tx.table('t').put('k', 'before')));
  await page.evaluate(() => ((window as any).marker = 'same document'));

  // navigate away: the page goes into the back/forward cache; the new page can open the
  // database (the cached page gave its exclusive access handles back) and change it
  await page.goto('/tests/browser/pages/app.html');
  await page.waitForFunction(() => (window as any).ready === true);
  expect(await page.evaluate(async () => {
    const db = await (window as any).pagedb.open('bf', { key: new Uint8Array(32).fill(5) });
    const v = (window as any).dec(await db.read((tx: any) => tx.table('t').get('k')));
    await db.write((tx: any) => tx.table('t').put('k', 'from the other page'));
    await db.close();
    return v;
  })).toBe('before');

  await page.goBack({ waitUntil: 'commit' }); // a page restored from the cache fires no load event
  await page.waitForFunction(() => (window as any).events?.includes('pageshow:true'));
  expect(notCached).toEqual([]);
  // the same document (restored from the cache, not reloaded)
  expect(await page.evaluate(() => (window as any).marker)).toBe('same document');
  expect(await page.evaluate(() => (window as any).events)).toEqual(expect.arrayContaining(['pagehide:true', 'pageshow:true']));
  // the Database object from before works, and sees the other page's commit
  expect(await page.evaluate(async () => (window as any).dec(await (window as any).db.read((tx: any) => tx.table('t').get('k')))))
    .toBe('from the other page');
  expect(await page.evaluate(async () => {
    const db = (window as any).db;
    await db.write((tx: any) => tx.table('t').put('k2', 'after'));
    const n = await db.table('t').count();
    const pages = await db.verify();
    await db.close();
    return [n, pages > 0];
  })).toEqual([2, true]);
});

test('freeze/resume (Page.setWebLifecycleState): released while frozen, reopened on resume', async ({ baseURL }) => {
  // Playwright's own pages keep focus emulation on, which keeps them visible and so
  // unfreezable: this test drives a Chromium it starts itself (connectOverCDP's default
  // context gets no such override)
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-freeze-'));
  const proc = spawn('/usr/bin/chromium', ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
    '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'], { stdio: 'ignore', detached: true });
  try {
    const portFile = path.join(profile, 'DevToolsActivePort');
    // Chromium creates the file before it writes the port: wait for a complete first line
    // (up to 30 s: a loaded machine starts Chromium slowly)
    let port = '';
    for (let i = 0; i < 600 && !/^\d+\n/.test(port); i++) {
      await new Promise((r) => setTimeout(r, 50));
      port = fs.existsSync(portFile) ? fs.readFileSync(portFile, 'utf8') : '';
    }
    port = port.split('\n')[0];
    if (!/^\d+$/.test(port)) throw new Error(`Chromium wrote no DevTools port to ${portFile}`);
    const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`, { noDefaults: true } as any);
    const context = browser.contexts()[0];
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${baseURL}/tests/browser/pages/app.html`);
    await page.waitForFunction(() => (window as any).ready === true);
    await page.evaluate(() => (window as any).clearOpfs());
    await page.goto(`${baseURL}/tests/browser/pages/lifecycle.html?db=fr`);
    await page.waitForFunction(() => (window as any).ready === true);
    await frozenScenario(page, context, baseURL!);
    await browser.close();
  } finally {
    // Chromium's helper processes outlive the browser process for a moment and keep writing
    // into the profile: end the whole process group, then remove the profile (best effort:
    // a leftover temporary directory must not fail the test)
    const exited = proc.exitCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', r));
    try { process.kill(-proc.pid!, 'SIGKILL'); } catch { proc.kill('SIGKILL'); }
    await exited;
    await new Promise((r) => setTimeout(r, 200));
    try {
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (e) {
      console.warn(`could not remove ${profile}: ${e}`);
    }
  }
});

async function frozenScenario(page: Page, context: BrowserContext, baseURL: string): Promise<void> {
  await page.evaluate(() => (window as any).db.write((tx: any) => tx.table('t').put('k', 'A')));
  // a write transaction open across the freeze: its commit must fail, nothing of it lands
  await page.evaluate(() => {
    const w = window as any;
    w.pending = w.db.write(async (tx: any) => {
      tx.table('t').put('lost', 'x');
      await tx.table('t').get('k'); // begins the transaction in the worker
      await new Promise((r) => setTimeout(r, 300)); // frozen meanwhile
    }).then(() => 'committed', (e: any) => e.codeName);
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });

  // another tab can open the database while the first is frozen
  const other = await context.newPage();
  await other.goto(`${baseURL}/tests/browser/pages/app.html`);
  await other.waitForFunction(() => (window as any).ready === true);
  expect(await other.evaluate(async () => {
    const db = await (window as any).pagedb.open('fr', { key: new Uint8Array(32).fill(5) });
    const v = (window as any).dec(await db.read((tx: any) => tx.table('t').get('k')));
    await db.write((tx: any) => tx.table('t').put('k', 'B'));
    await db.close();
    return v;
  })).toBe('A');
  await other.close();

  await cdp.send('Page.setWebLifecycleState', { state: 'active' });
  expect(await page.evaluate(() => (window as any).pending)).toBe('PAGEDB_EMISUSE');
  expect(await page.evaluate(() => (window as any).events)).toEqual(expect.arrayContaining(['freeze', 'resume']));
  expect(await page.evaluate(async () => {
    const db = (window as any).db, dec = (window as any).dec;
    const v = dec(await db.read((tx: any) => tx.table('t').get('k')));
    const lost = await db.read((tx: any) => tx.table('t').get('lost'));
    await db.write((tx: any) => tx.table('t').put('k3', 'C'));
    const n = await db.table('t').count();
    await db.close();
    return [v, lost, n];
  })).toEqual(['B', undefined, 2]);
}
