// A fresh Vite app built against the packed tarball (tests/browser/vite-app/build.sh) stores
// and reads data in Chromium: its visit counter persists across reloads.
import { test, expect } from '@playwright/test';

test('the packed package works in a fresh Vite app', async ({ page }) => {
  await page.goto('/tests/browser/pages/app.html');
  await page.waitForFunction(() => (window as any).ready === true);
  await page.evaluate(() => (window as any).clearOpfs());
  for (const want of ['visits: 1', 'visits: 2', 'visits: 3']) {
    await page.goto('/build/vite-app/dist/index.html');
    await expect(page.locator('#out')).toHaveText(want, { timeout: 20_000 });
  }
});
