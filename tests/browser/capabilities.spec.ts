// Issue 12, item 3: where a browser feature pagedb needs is missing, open() rejects at once
// with a typed error naming it (CapabilityError: PagedbError ENOTSUP with `capability`),
// never a hang. The features are removed from the page before the package loads.
import { test, expect } from '@playwright/test';

const cases: [string, string, string][] = [
  ['Web Locks', 'Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined })', 'Web Locks (navigator.locks)'],
  ['OPFS', 'Object.defineProperty(StorageManager.prototype, "getDirectory", { value: undefined })', 'OPFS (navigator.storage.getDirectory)'],
  ['BroadcastChannel', 'delete globalThis.BroadcastChannel', 'BroadcastChannel'],
  ['Worker', 'delete globalThis.Worker', 'Worker'],
];

for (const [what, script, capability] of cases) {
  test(`missing ${what}: open rejects at once with CapabilityError naming it`, async ({ page }) => {
    await page.addInitScript(script);
    await page.goto('/tests/browser/pages/app.html');
    await page.waitForFunction(() => (window as any).ready === true);
    const r = await page.evaluate(async () => {
      const w = window as any, t0 = performance.now();
      try {
        await w.pagedb.open('caps', { key: w.key });
        return { ok: true };
      } catch (e: any) {
        return { ms: performance.now() - t0, codeName: e.codeName, capability: e.capability, isCap: e instanceof w.pagedb.CapabilityError,
          isPagedb: e instanceof w.pagedb.PagedbError, message: e.message };
      }
    });
    expect(r).toMatchObject({ codeName: 'PAGEDB_ENOTSUP', capability, isCap: true, isPagedb: true });
    expect(r.message).toContain(capability);
    expect(r.ms).toBeLessThan(1000);
  });
}

test('missing sync access handles in the worker: open rejects with CapabilityError naming them', async ({ page }) => {
  // the worker script, served with the feature removed before it runs
  await page.route('**/dist/worker.js', async (route) => {
    const res = await route.fetch();
    const body = 'delete FileSystemFileHandle.prototype.createSyncAccessHandle;\n' + (await res.text());
    await route.fulfill({ response: res, body });
  });
  await page.goto('/tests/browser/pages/app.html');
  await page.waitForFunction(() => (window as any).ready === true);
  const r = await page.evaluate(async () => {
    const w = window as any;
    return w.pagedb.open('caps2', { key: w.key }).then(() => ({ ok: true }),
      (e: any) => ({ codeName: e.codeName, capability: e.capability, isCap: e instanceof w.pagedb.CapabilityError }));
  });
  expect(r).toEqual({ codeName: 'PAGEDB_ENOTSUP', capability: 'OPFS sync access handles', isCap: true });
  // nothing was left behind: no database directory, no lock held
  expect(await page.evaluate(async () => (window as any).pagedb.listDatabases())).toEqual([]);
  expect(await page.evaluate(async () => (await navigator.locks.query()).held!.length)).toBe(0);
});
