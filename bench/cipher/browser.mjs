// browser.mjs — runs bench/cipher/page.html (the Emscripten build of bench/cipher_bench.c)
// in Debian's Chromium, headless, through playwright-core, and prints the benchmark's lines.
// Usage: node bench/cipher/browser.mjs [cipher_bench arguments...]
// The repository root is served by tests/browser/server.mjs on a free loopback port.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});
const server = spawn(process.execPath, [path.join(root, 'tests/browser/server.mjs')],
  { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve, reject) => {
  server.stdout.on('data', (b) => { if (String(b).includes('serving')) resolve(); });
  server.on('exit', (c) => reject(new Error(`server exited ${c}`)));
});
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
let status = 1;
try {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') process.stderr.write(`[page] ${m.text()}\n`); });
  const q = process.argv.slice(2).map((a) => `arg=${encodeURIComponent(a)}`).join('&');
  await page.goto(`http://127.0.0.1:${port}/bench/cipher/page.html?${q}`);
  await page.waitForFunction(() => window.benchStatus !== null, null, { timeout: 600_000, polling: 500 });
  const r = await page.evaluate(() => ({ lines: window.benchLines, status: window.benchStatus }));
  for (const l of r.lines) console.log(l);
  status = r.status;
} finally {
  await browser.close();
  server.kill();
}
process.exit(status);
