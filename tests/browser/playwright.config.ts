import { defineConfig } from '@playwright/test';

// The static server's port: PAGEDB_TEST_PORT (scripts/test-js.sh picks a free one), else 8787.
const port = process.env.PAGEDB_TEST_PORT ?? '8787';

// Debian's Chromium only (never a downloaded browser), headless, one worker.
export default defineConfig({
  testDir: '.',
  testMatch: /.*\.spec\.ts/,
  workers: 1,
  timeout: 60_000,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    command: 'node tests/browser/server.mjs',
    cwd: '../..',
    url: `http://127.0.0.1:${port}/tests/browser/pages/app.html`,
    reuseExistingServer: false,
    env: { PORT: port },
  },
});
