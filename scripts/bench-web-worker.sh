#!/usr/bin/env bash
# The dedicated-worker benchmark (never part of the test gate or CI): the browser workload of
# scripts/bench-web.sh run with pagedb's promise API called inside a dedicated worker that owns
# the database (the engine runs in that worker's thread: js/src/local.ts, no message hop),
# beside sqlite-wasm (opfs-sahpool) in a worker, pagedb's synchronous API in a worker and the
# promise API from the page, in one Chromium run each (bench/web/run.mjs, engines
# pagedb-promise-worker,sqlite-wasm,pagedb-worker,pagedb-promise), plus µs per awaited get.
# Writes bench/results/web-worker.json + web-worker.md (bench/web/report_worker.py).
#
# Usage: bash scripts/bench-web-worker.sh [N]
#   N               bulk-load size (default $BENCH_N or 20000)
#   WEB_INDIVIDUAL  one-insert durable commits (default 500)
#   WEB_BATCHES     batch commits of 1,000 (default 20)
#   WEB_RANGES      range reads of 10 (default 5000)
#   WEB_CACHE_MIB   cache of every engine (default 128)
#   WEB_ENGINES     engines (default pagedb-promise-worker,sqlite-wasm,pagedb-worker,pagedb-promise)
#   RUNS            browser runs (default 1; the report gives medians and the ratios' range)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-${BENCH_N:-20000}}"
work=build/webbench
mkdir -p "$work" bench/results
scripts/npm-deps.sh
bash scripts/build-emscripten.sh
npx tsc -p js/tsconfig.json
load0=$(cut -d' ' -f1 /proc/loadavg)
ins=()
for r in $(seq 1 "${RUNS:-1}"); do
  node bench/web/run.mjs --out "$work/worker-$r.json" --n "$n" --individual "${WEB_INDIVIDUAL:-500}" \
    --batches "${WEB_BATCHES:-20}" --ranges "${WEB_RANGES:-5000}" --cache-mib "${WEB_CACHE_MIB:-128}" \
    --engines "${WEB_ENGINES:-pagedb-promise-worker,sqlite-wasm,pagedb-worker,pagedb-promise}"
  ins+=("$work/worker-$r.json")
done
load1=$(cut -d' ' -f1 /proc/loadavg)
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain -- core platform js/src bench/web 2>/dev/null)" ]; then commit="$commit+uncommitted changes"; fi
python3 bench/web/report_worker.py --in "$(IFS=,; echo "${ins[*]}")" --commit "$commit" --load "$load0/$load1" \
  --out bench/results/web-worker.json --md bench/results/web-worker.md
echo "results: bench/results/web-worker.json, bench/results/web-worker.md"
