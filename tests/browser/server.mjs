// A static file server for the browser tests: serves the repository root on 127.0.0.1
// (a secure context, so OPFS is available) with the right MIME types for modules and wasm.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const port = Number(process.env.PORT || 8787);
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css' };

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const file = path.resolve(root, '.' + decodeURIComponent(url.pathname));
  if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
  fs.readFile(file, (err, data) => {
    if (err) { res.writeHead(404).end('not found'); return; }
    // no-store keeps every test on fresh files, but a page served with it never enters the
    // back/forward cache: the lifecycle test page is served without it
    const headers = { 'content-type': types[path.extname(file)] || 'application/octet-stream' };
    if (!path.basename(file).startsWith('lifecycle')) headers['cache-control'] = 'no-store';
    res.writeHead(200, headers);
    res.end(data);
  });
}).listen(port, '127.0.0.1', () => console.log(`serving ${root} on http://127.0.0.1:${port}`));
