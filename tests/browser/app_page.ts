// The test page shared by the OPFS, segment and batching specs: tests/browser/pages/app.html
// loads the package (dist/) and sets window.ready; every test starts from empty OPFS.
import { test, type Page } from '@playwright/test';

/** Load the test page and wait until it has imported the package (window.ready). */
export async function load(page: Page): Promise<void> {
  await page.goto('/tests/browser/pages/app.html');
  await page.waitForFunction(() => (window as any).ready === true);
}

/** Register a beforeEach that loads the page and empties the origin's OPFS. */
export function freshPageEachTest(): void {
  test.beforeEach(async ({ page }) => {
    await load(page);
    await page.evaluate(() => (window as any).clearOpfs());
  });
}
