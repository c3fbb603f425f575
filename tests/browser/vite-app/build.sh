#!/usr/bin/env bash
# Packs the package (npm pack), installs the tarball into a fresh Vite app made from this
# folder's index.html and main.js, and builds it into build/vite-app/dist (served by the
# Playwright web server). This is what a new user does, following the README.
# Fails when: the tarball ships the Emscripten wasm more than once (one pagedb.wasm serves
# the browser and Node), Vite prints any warning (e.g. a Node built-in such as "crypto"
# externalized), the bundle still contains a require() of a Node module, or the app's
# first load is over 100 kB gzip. Writes the first-load sizes to build/vite-app/size.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
app="$root/build/vite-app"
rm -rf "$app"; mkdir -p "$app"
tgz=$(cd "$root" && npm pack --silent --pack-destination "$app" 2>/dev/null | tail -n 1)
wasms=$(tar tzf "$app/$tgz" | grep -E '^package/dist/[^/]*\.wasm$' || true)  # grep reads all: no SIGPIPE
if [ "$wasms" != "package/dist/pagedb.wasm" ]; then
  echo "FAIL: the tarball must ship exactly one Emscripten module, dist/pagedb.wasm; it has:" $wasms >&2
  exit 1
fi
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
# first load: the page, its script, the worker script and the wasm module
node -e '
const fs = require("fs"), zlib = require("zlib"), path = require("path");
const files = ["dist/index.html", ...fs.readdirSync("dist/assets").map((f) => path.join("dist/assets", f))];
const rows = files.map((f) => { const b = fs.readFileSync(f); return { file: path.basename(f), bytes: b.length, gzip: zlib.gzipSync(b, { level: 6 }).length }; });
const total = rows.reduce((a, r) => ({ bytes: a.bytes + r.bytes, gzip: a.gzip + r.gzip }), { bytes: 0, gzip: 0 });
fs.writeFileSync("size.json", JSON.stringify({ files: rows, total }, null, 2) + "\n");
for (const r of rows) console.log(`${r.file.padEnd(40)} ${String(r.bytes).padStart(8)} B  ${String(r.gzip).padStart(7)} B gzip`);
console.log(`${"first load".padEnd(40)} ${String(total.bytes).padStart(8)} B  ${String(total.gzip).padStart(7)} B gzip`);
if (total.gzip > 100 * 1024) { console.error(`FAIL: first load ${total.gzip} B gzip > 100 kB`); process.exit(1); }
'
