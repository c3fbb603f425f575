#!/usr/bin/env bash
# bench-snapshot.sh — how closely a throttled snapshot export keeps its rate: the native
# CLI (`pagedb snapshot --rate`, pagedb_snapshot_options.rate_bytes) and the TypeScript
# package under Node (db.exportSnapshot({ rate })), each a full export of a ~56 MB
# database (60,000 JSON rows of ~420 bytes) at two rates; achieved = stream bytes / wall
# time of the whole run. A benchmark, not a test: the 2-core machine is shared, so a
# loaded run can only be slower than the rate, never faster. Writes bench/results/snapshot.md.
# Needs build/release/pagedb and the Emscripten module + compiled TypeScript (dist/).
# Usage: scripts/bench-snapshot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cli=build/release/pagedb
[ -x "$cli" ] && [ -f dist/node.js ] || { echo "needs $cli and dist/ (scripts/test-js.sh builds both)" >&2; exit 1; }
tmp=$(mktemp -d "${PAGEDB_TEST_TMP:-/tmp}/bench-snapshot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export PAGEDB_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
python3 -c '
import json
for i in range(60000): print(json.dumps({"id": i, "pad": "y" * 400}))' >"$tmp/rows.jsonl"
$cli init "$tmp/db" >/dev/null
$cli import "$tmp/db" big "$tmp/rows.jsonl" --key id >/dev/null
rows=()
for rate in 0 4000000 8000000; do
  t0=$(date +%s%N)
  if [ "$rate" -eq 0 ]; then $cli snapshot "$tmp/db" "$tmp/s-$rate" >/dev/null; else $cli snapshot "$tmp/db" "$tmp/s-$rate" --rate "$rate" >/dev/null; fi
  t1=$(date +%s%N)
  bytes=$(wc -c <"$tmp/s-$rate")
  rows+=("$(python3 -c "import sys; b,r,ns=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3]); a=b/(ns/1e9); print('| CLI \`pagedb snapshot --rate\` | %s | %d | %.2f s | %d | %s |' % (r or 'unthrottled', b, ns/1e9, a, '%+.1f%%' % ((a/r-1)*100) if r else '-'))" "$bytes" "$rate" $((t1 - t0)))")
done
# the same database through the TypeScript package (Node, node:fs)
for rate in 0 1000000 2000000; do
  rows+=("$(node --input-type=module -e "
import { open } from '$root/dist/node.js';
const key = Uint8Array.from(Buffer.from(process.env.PAGEDB_KEY, 'hex'));
const db = await open('db', { directory: '$tmp', key, create: false });
const t0 = process.hrtime.bigint();
let bytes = 0;
for (const r = db.exportSnapshot({ rate: $rate }).getReader(); ;) { const { done, value } = await r.read(); if (done) break; bytes += value.length; }
const s = Number(process.hrtime.bigint() - t0) / 1e9;
await db.close();
const a = bytes / s;
const d = $rate ? (a / $rate * 100 - 100) : 0;
console.log('| TS \`db.exportSnapshot({ rate })\` (Node) | ' + ($rate || 'unthrottled') + ' | ' + bytes + ' | ' + s.toFixed(2) + ' s | ' + Math.round(a) + ' | ' + ($rate ? (d >= 0 ? '+' : '') + d.toFixed(1) + '%' : '-') + ' |');
")")
done
{
  echo "# Snapshot export throttle"
  echo
  echo "\`scripts/bench-snapshot.sh\` at $(git rev-parse --short HEAD) ($(date -u +%Y-%m-%d)), the 2-core shared machine."
  echo "Full export of a ~56 MB database (60,000 rows of ~420 bytes, XChaCha20-Poly1305, 4096-byte pages);"
  echo "achieved = stream bytes / wall time of the whole export (open to last byte). The issue asks"
  echo "for a throttled run to stay within 10% of its rate. A throttle only slows an export down:"
  echo "the unthrottled rows give each exporter's speed on this machine at that moment (the TS"
  echo "export re-generates the stream prefix per window, glue_snapshot.c, and is several times"
  echo "slower than the CLI), and a rate above it cannot be reached. Load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| exporter | rate (B/s) | stream bytes | time | achieved (B/s) | vs rate |"
  echo "|---|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
} > bench/results/snapshot.md
cat bench/results/snapshot.md
