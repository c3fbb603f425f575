import { defineConfig } from '@playwright/test';

// Debian's Chromium only (never a downloaded browser), headless, one worker.
export default defineConfig({
  testDir: '.',
  testMatch: /.*\.spec\.ts/,
  workers: 1,
  timeout: 60_000,
  reporter: [['list']],
  use: {
    baseURL: 'http://127.0.0.1:8787',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    command: 'node tests/browser/server.mjs',
    cwd: '../..',
    url: 'http://127.0.0.1:8787/tests/browser/pages/app.html',
    reuseExistingServer: false,
    env: { PORT: '8787' },
  },
});
