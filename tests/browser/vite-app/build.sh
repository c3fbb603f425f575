#!/usr/bin/env bash
# Packs the package (npm pack), installs the tarball into a fresh Vite app made from this
# folder's index.html and main.js, and builds it into build/vite-app/dist (served by the
# Playwright web server). This is what a new user does, following the README.
# Fails when: the tarball ships other Emscripten wasm files than dist/pagedb.wasm (the
# first-load module, one file for the browser and Node) and dist/pagedb-full.wasm (the
# module with data key rotation and compaction, loaded lazily by db.rotateKeys and db.compact), or lacks their glue, Vite prints any warning (e.g. a Node built-in such as "crypto"
# externalized), the bundle still contains a require() of a Node module, or the app's
# first load (below) is over 100 kB gzip. Writes the sizes to build/vite-app/size.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
app="$root/build/vite-app"
rm -rf "$app"; mkdir -p "$app"
tgz=$(cd "$root" && npm pack --silent --pack-destination "$app" 2>/dev/null | tail -n 1)
wasms=$(tar tzf "$app/$tgz" | grep -E '^package/dist/[^/]*\.wasm$' || true)  # grep reads all: no SIGPIPE
if [ "$(echo $wasms)" != "package/dist/pagedb-full.wasm package/dist/pagedb.wasm" ]; then
  echo "FAIL: the tarball must ship exactly two Emscripten modules, dist/pagedb.wasm and dist/pagedb-full.wasm (the lazily loaded one with data key rotation and compaction); it has:" $wasms >&2
  exit 1
fi
for f in pagedb.browser.mjs pagedb.node.mjs pagedb-full.browser.mjs pagedb-full.node.mjs rotate_client.js rotate_engine.js module_full_node.js; do
  tar tzf "$app/$tgz" | grep -x "package/dist/$f" >/dev/null || { echo "FAIL: the tarball lacks dist/$f" >&2; exit 1; }
done
listing=$(tar tzf "$app/$tgz")
for f in LICENSE-MIT LICENSE-APACHE THIRD-PARTY-NOTICES.md README.md; do
  grep -qx "package/$f" <<<"$listing" || { echo "FAIL: the tarball lacks $f" >&2; exit 1; }
done
cp "$(dirname "$0")/index.html" "$(dirname "$0")/main.js" "$app/"
cd "$app"
printf '{ "name": "pagedb-vite-app", "private": true, "type": "module" }\n' > package.json
npm install --no-audit --no-fund --loglevel=error vite@7.3.8 "./$tgz" >/dev/null
# --logLevel warn prints warnings and errors only: any output is a failure
if ! npx vite build --base ./ --logLevel warn >vite-build.log 2>&1 || [ -s vite-build.log ]; then
  echo "FAIL: vite build printed warnings or failed:" >&2
  cat vite-build.log >&2
  exit 1
fi
if grep -l 'require(' dist/assets/*.js >/dev/null 2>&1; then
  echo "FAIL: the browser bundle still calls require():" >&2
  grep -o '.\{60\}require([^)]*).\{20\}' dist/assets/*.js >&2
  exit 1
fi
# first load: what the page fetches on a first visit that opens a database: index.html, the
# scripts and preloads it names, and, transitively, what those import statically (from"./x",
# import"./x") or name as an asset URL (new URL("x", ...): the worker, the broker
# SharedWorker, the wasm module). Chunks reached only through import("./x") (and their own
# files) are loaded on first use of a feature (exportSnapshot, importSnapshot) and listed as
# "lazy" (db.rotateKeys's and db.compact's chunk and the full module too); files nothing references are "unused" (an asset of tree-shaken code). Only the
# first load is held to the limit.
node -e '
const fs = require("fs"), zlib = require("zlib"), path = require("path");
const files = ["dist/index.html", ...fs.readdirSync("dist/assets").map((f) => path.join("dist/assets", f))];
const byName = new Map(files.map((f) => [path.basename(f), f]));
const text = (n) => fs.readFileSync(byName.get(n), "utf8");
const closure = (start) => {
  const seen = new Set(start), todo = [...start];
  while (todo.length) {
    const n = todo.pop();
    if (!/\.(m?js|html)$/.test(n)) continue;
    const t = text(n);
    const refs = [...t.matchAll(/(?:\bfrom|\bimport)\s*"\.\/([\w.-]+\.js)"/g), ...t.matchAll(/new URL\(\s*"([\w.-]+\.(?:m?js|wasm))"/g),
      ...t.matchAll(/<(?:script|link)[^>]*(?:src|href)="\.\/assets\/([\w.-]+)"/g)].map((m) => m[1]);
    for (const r of refs) if (byName.has(r) && !seen.has(r)) { seen.add(r); todo.push(r); }
  }
  return seen;
};
const first = closure(["index.html"]);
const named = (n) => [...byName.keys()].filter((o) => o !== n && text(n).includes(o));
const lazyRoots = [...first].filter((n) => /\.m?js$/.test(n)).flatMap(named).filter((n) => !first.has(n));
const lazy = closure(lazyRoots);
for (const n of first) lazy.delete(n);
const rows = files.map((f) => { const b = fs.readFileSync(f), n = path.basename(f);
  return { file: n, load: first.has(n) ? "first" : lazy.has(n) ? "lazy" : "unused", bytes: b.length, gzip: zlib.gzipSync(b, { level: 6 }).length }; });
const sum = (rs) => rs.reduce((a, r) => ({ bytes: a.bytes + r.bytes, gzip: a.gzip + r.gzip }), { bytes: 0, gzip: 0 });
const total = sum(rows.filter((r) => r.load === "first")), all = sum(rows);
fs.writeFileSync("size.json", JSON.stringify({ files: rows, total, all }, null, 2) + "\n");
for (const r of rows) console.log(`${r.file.padEnd(40)} ${r.load.padEnd(6)} ${String(r.bytes).padStart(8)} B  ${String(r.gzip).padStart(7)} B gzip`);
console.log(`${"all files".padEnd(47)} ${String(all.bytes).padStart(8)} B  ${String(all.gzip).padStart(7)} B gzip`);
console.log(`${"first load".padEnd(47)} ${String(total.bytes).padStart(8)} B  ${String(total.gzip).padStart(7)} B gzip`);
if (total.gzip > 100 * 1024) { console.error(`FAIL: first load ${total.gzip} B gzip > 100 kB`); process.exit(1); }
'
