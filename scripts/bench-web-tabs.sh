#!/usr/bin/env bash
# The hop benchmark (never part of the test gate or CI): the browser workload of
# scripts/bench-web.sh run with pagedb's promise API from a second tab, a client whose calls
# travel to the owner tab (js/src/tabs.ts; over a MessagePort brokered by a SharedWorker),
# beside the owner tab's own promise-API figures (pagedb-promise: the tab that opens the
# database owns it) and sqlite-wasm's (opfs-sahpool, worker), in one Chromium run
# (bench/web/run.mjs, engines pagedb-promise,pagedb-tab-client,sqlite-wasm).
# Writes bench/results/web-tabs.json + web-tabs.md (bench/web/report_tabs.py); the hop's cost
# is the ratio second tab ÷ owner tab per phase.
#
# Usage: bash scripts/bench-web-tabs.sh [N]
#   N               bulk-load size (default $BENCH_N or 50000: the default run of bench-web.sh
#                   uses 100000; halved so three engines finish in a few minutes on a busy machine)
#   WEB_INDIVIDUAL  one-insert durable commits (default 500)
#   WEB_BATCHES     batch commits of 1,000 (default 50)
#   WEB_RANGES      range reads of 10 (default 5000)
#   WEB_CACHE_MIB   cache of every engine (default 128)
#   RUNS            browser runs (default 3; the report gives medians and the ratios' range)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-${BENCH_N:-50000}}"
work=build/webbench
mkdir -p "$work" bench/results
scripts/npm-deps.sh
bash scripts/build-emscripten.sh
npx tsc -p js/tsconfig.json
load0=$(cut -d' ' -f1 /proc/loadavg)
ins=()
for r in $(seq 1 "${RUNS:-3}"); do
  node bench/web/run.mjs --out "$work/tabs-$r.json" --n "$n" --individual "${WEB_INDIVIDUAL:-500}" \
    --batches "${WEB_BATCHES:-50}" --ranges "${WEB_RANGES:-5000}" --cache-mib "${WEB_CACHE_MIB:-128}" \
    --engines pagedb-promise,pagedb-tab-client,sqlite-wasm
  ins+=("$work/tabs-$r.json")
done
load1=$(cut -d' ' -f1 /proc/loadavg)
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain -- core platform js/src bench/web 2>/dev/null)" ]; then commit="$commit+uncommitted changes"; fi
python3 bench/web/report_tabs.py --in "$(IFS=,; echo "${ins[*]}")" --commit "$commit" --load "$load0/$load1" \
  --out bench/results/web-tabs.json --md bench/results/web-tabs.md
echo "results: bench/results/web-tabs.json, bench/results/web-tabs.md"
