#!/usr/bin/env bash
# Packs the package (npm pack), installs the tarball into a fresh Vite app made from this
# folder's index.html and main.js, and builds it into build/vite-app/dist (served by the
# Playwright web server). This is what a new user does, following the README.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
app="$root/build/vite-app"
rm -rf "$app"; mkdir -p "$app"
tgz=$(cd "$root" && npm pack --silent --pack-destination "$app" 2>/dev/null | tail -n 1)
cp "$(dirname "$0")/index.html" "$(dirname "$0")/main.js" "$app/"
cd "$app"
printf '{ "name": "pagedb-vite-app", "private": true, "type": "module" }\n' > package.json
npm install --no-audit --no-fund --loglevel=error vite@7 "./$tgz" >/dev/null
npx vite build --base ./ --logLevel warn
