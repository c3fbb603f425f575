// Helpers of the multi-context specs: open pages of tests/browser/pages/tabs.html on one
// database, find the owner, wait for conditions across tabs.
import { expect, type BrowserContext, type Page } from '@playwright/test';

/** Open a tab on database `db` (tabs.html) and wait until it has opened it (or failed). */
export async function openTab(context: BrowserContext, db: string, query = ''): Promise<Page> {
  const p = await context.newPage();
  await p.goto(`/tests/browser/pages/tabs.html?db=${db}${query}`);
  await p.waitForFunction(() => (window as any).ready === true, undefined, { timeout: 20_000 });
  return p;
}

/** Empty the origin's OPFS (from any page of the origin). */
export async function clearOpfs(page: Page): Promise<void> {
  await page.goto('/tests/browser/pages/app.html');
  await page.waitForFunction(() => (window as any).ready === true);
  await page.evaluate(() => (window as any).clearOpfs());
}

/** The pages (of `pages`) whose tab owns the database now. */
export async function owners(pages: Page[]): Promise<Page[]> {
  const out: Page[] = [];
  for (const p of pages) if (!p.isClosed() && (await p.evaluate(() => (window as any).owner?.() === true))) out.push(p);
  return out;
}

/** Wait (polling, at most `ms`) until exactly one of `pages` owns the database; returns it. */
export async function oneOwner(pages: Page[], ms = 15_000): Promise<Page> {
  const end = Date.now() + ms;
  for (;;) {
    const o = await owners(pages);
    if (o.length === 1) return o[0];
    expect(o.length, 'never two owners').toBeLessThanOrEqual(1);
    if (Date.now() > end) throw new Error(`no owner after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Run `fn` with a Chromium this helper starts itself and drives over CDP: Playwright's own
 * pages keep focus emulation on, which keeps them visible and so unfreezable (see
 * lifecycle.spec.ts). The profile is removed afterwards.
 */
export async function withOwnChromium(fn: (context: BrowserContext) => Promise<void>): Promise<void> {
  const { spawn } = await import('node:child_process');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { chromium } = await import('@playwright/test');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-tabs-'));
  const proc = spawn('/usr/bin/chromium', ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'], { stdio: 'ignore' });
  try {
    const portFile = path.join(profile, 'DevToolsActivePort');
    for (let i = 0; i < 200 && !fs.existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 50));
    const port = fs.readFileSync(portFile, 'utf8').split('\n')[0];
    const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`, { noDefaults: true } as any);
    await fn(browser.contexts()[0]);
    await browser.close();
  } finally {
    const exited = proc.exitCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', r));
    proc.kill();
    await exited;
    // Chromium's helper processes may still write into the profile for a moment
    for (let i = 0; ; i++) {
      try {
        fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
        break;
      } catch (e) {
        if (i >= 20) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
}
