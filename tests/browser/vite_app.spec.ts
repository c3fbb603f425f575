// A fresh Vite app built against the packed tarball (tests/browser/vite-app/build.sh) stores
// and reads data in Chromium: its visit counter persists across reloads; with ?restore it
// backs the database up and restores it under another name (exportSnapshot and
// importSnapshot with its worker, as the bundler emitted them); with ?rotate it rotates the
// data keys and with ?compact it compacts (db.rotateKeys, db.compact: the lazily loaded full
// module, as the bundler emitted it).
import { test, expect } from '@playwright/test';

test('the packed package works in a fresh Vite app', async ({ page }) => {
  await page.goto('/tests/browser/pages/app.html');
  await page.waitForFunction(() => (window as any).ready === true);
  await page.evaluate(() => (window as any).clearOpfs());
  for (const want of ['visits: 1', 'visits: 2', 'visits: 3']) {
    await page.goto('/build/vite-app/dist/index.html');
    await expect(page.locator('#out')).toHaveText(want, { timeout: 20_000 });
  }
  await page.goto('/build/vite-app/dist/index.html?restore');
  await expect(page.locator('#out')).toHaveText('restored visits: 4', { timeout: 20_000 });
  await page.goto('/build/vite-app/dist/index.html?rotate');
  await expect(page.locator('#out')).toHaveText('rotated: true visits: 5', { timeout: 20_000 });
  await page.goto('/build/vite-app/dist/index.html');
  await expect(page.locator('#out')).toHaveText('visits: 6', { timeout: 20_000 });
  await page.goto('/build/vite-app/dist/index.html?compact');
  await expect(page.locator('#out')).toHaveText('compacted: true visits: 7', { timeout: 20_000 });
});
