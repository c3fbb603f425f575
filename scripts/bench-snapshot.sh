#!/usr/bin/env bash
# bench-snapshot.sh — how closely a throttled snapshot export keeps its rate: the native
# CLI (`pagedb snapshot --rate`, pagedb_snapshot_options.rate_bytes) and the TypeScript
# package under Node (db.exportSnapshot({ rate })), each a full export of a ~56 MB
# database (60,000 JSON rows of ~420 bytes) at two rates; achieved = stream bytes / wall
# time of the whole run. A benchmark, not a test: the 2-core machine is shared, so a
# loaded run can only be slower than the rate, never faster. Writes bench/results/snapshot.md.
# Needs build/release/pagedb and the Emscripten module + compiled TypeScript (dist/).
#
# Mode `export BASE_DIST` (scripts/bench-snapshot.sh export /path/to/other/dist): the cost of
# an unthrottled db.exportSnapshot() under Node of a ~560 MB database (600,000 rows of ~420
# bytes), with the package in BASE_DIST (a dist/ built from another commit:
# scripts/build-emscripten.sh and npx tsc -p js/tsconfig.json there) and with this tree's dist/, each run three times
# in a fresh process: wall time, peak RSS (/usr/bin/time), the largest chunk, and bytes
# read by the engine (Stats.bytesRead); the streams must be equal. Writes
# bench/results/snapshot-export.md (ratios this tree / BASE_DIST).
# Usage: scripts/bench-snapshot.sh [export BASE_DIST]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cli=build/release/pagedb
[ -x "$cli" ] && [ -f dist/node.js ] || { echo "needs $cli and dist/ (scripts/test-js.sh builds both)" >&2; exit 1; }
tmp=$(mktemp -d "${PAGEDB_TEST_TMP:-/tmp}/bench-snapshot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export PAGEDB_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
if [ "${1:-}" = export ]; then
  base=$(cd "${2:?usage: scripts/bench-snapshot.sh export BASE_DIST}" && pwd)
  [ -f "$base/node.js" ] || { echo "$base/node.js missing: BASE_DIST must be a built dist/" >&2; exit 1; }
  python3 -c '
import json
for i in range(600000): print(json.dumps({"id": i, "pad": "y" * 400}))' >"$tmp/rows.jsonl"
  $cli init "$tmp/db" >/dev/null
  $cli import "$tmp/db" big "$tmp/rows.jsonl" --key id >/dev/null
  rm "$tmp/rows.jsonl"
  dbsize=$(du -b "$tmp/db/main.pdb" | cut -f1)
  cat >"$tmp/run.mjs" <<'JS'
import { createHash } from 'node:crypto';
const [pkg, dir] = process.argv.slice(2);
const { open } = await import(pkg);
const key = Uint8Array.from(Buffer.from(process.env.PAGEDB_KEY, 'hex'));
const db = await open('db', { directory: dir, key, create: false });
const s0 = await db.stat();
const t0 = process.hrtime.bigint();
const h = createHash('sha256');
let bytes = 0, chunks = 0, largest = 0;
for (const r = db.exportSnapshot().getReader(); ;) {
  const { done, value } = await r.read();
  if (done) break;
  h.update(value);
  bytes += value.length, chunks++, largest = Math.max(largest, value.length);
}
const s = Number(process.hrtime.bigint() - t0) / 1e9;
const s1 = await db.stat();
await db.close();
console.log(JSON.stringify({ s, bytes, chunks, largest, read: s1.bytesRead - s0.bytesRead, sha: h.digest('hex') }));
JS
  for which in base head; do
    pkg=$([ $which = base ] && echo "$base/node.js" || echo "$root/dist/node.js")
    for i in 1 2 3; do
      /usr/bin/time -f '%M' -o "$tmp/rss" node "$tmp/run.mjs" "$pkg" "$tmp" >"$tmp/out-$which-$i"
      python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["rss_kib"]=int(open(sys.argv[2]).read().split()[-1]); print(json.dumps(d))' \
        "$tmp/out-$which-$i" "$tmp/rss" >"$tmp/res-$which-$i"
    done
  done
  python3 - "$tmp" "$dbsize" "$(git rev-parse --short HEAD)" "$base" "$(cut -d' ' -f1-3 /proc/loadavg)" >bench/results/snapshot-export.md <<'PY'
import json, sys, statistics as st, datetime
tmp, dbsize, head, base, load = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
r = {w: [json.load(open(f"{tmp}/res-{w}-{i}")) for i in (1, 2, 3)] for w in ("base", "head")}
shas = {x["sha"] for w in r for x in r[w]}
assert len(shas) == 1, "the streams differ between builds or runs"
m = {w: {k: st.median(x[k] for x in r[w]) for k in ("s", "rss_kib", "read", "largest", "chunks", "bytes")} for w in r}
print("# TypeScript snapshot export: one live exporter vs windows re-run from the token\n")
print(f"`scripts/bench-snapshot.sh export BASE_DIST` at {head} ({datetime.date.today()}), the 2-core shared machine "
      f"(load average {load}). Node, `db.exportSnapshot()` unthrottled, read to the end and hashed; a database of "
      f"{dbsize:,} bytes (600,000 rows of ~420 bytes, XChaCha20-Poly1305, 4096-byte pages); stream "
      f"{int(m['head']['bytes']):,} bytes, identical (SHA-256) in every run of both builds. Median of 3 runs, each a "
      "fresh process. base = the package built from the commit before the exporter (each engine window "
      "re-ran pagedb_snapshot_export from its resume token, re-reading and re-hashing the stream's prefix; "
      "windows grew from 1 MiB to 32 MiB); head = this tree (1 MiB chunks from one live "
      "pagedb_snapshot_exporter). Peak RSS: /usr/bin/time's maximum resident set of the whole Node process "
      "(the wasm heap never shrinks). Bytes read: Stats.bytesRead during the export (the engine's "
      "authenticated page reads; the raw page copies it streams are not counted there).\n")
print("| build | time | peak RSS | bytes read by the engine | largest chunk | chunks |")
print("|---|---:|---:|---:|---:|---:|")
for w in ("base", "head"):
    x = m[w]
    print(f"| {w} | {x['s']:.2f} s | {x['rss_kib']/1024:.0f} MiB | {int(x['read']):,} | {int(x['largest']):,} | {int(x['chunks'])} |")
b, h = m["base"], m["head"]
print(f"| head / base | {h['s']/b['s']:.2f}x | {h['rss_kib']/b['rss_kib']:.2f}x | {h['read']/b['read']:.2f}x | {h['largest']/b['largest']:.3f}x | |")
print("\nEvery run (s, peak RSS KiB):\n")
for w in ("base", "head"):
    print(f"- {w}: " + ", ".join(f"{x['s']:.2f} s / {x['rss_kib']} KiB" for x in r[w]))
PY
  cat bench/results/snapshot-export.md
  exit 0
fi
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
  echo "export runs the engine compiled to wasm, in 1 MiB chunks from one live exporter), and a"
  echo "rate above it cannot be reached. Load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| exporter | rate (B/s) | stream bytes | time | achieved (B/s) | vs rate |"
  echo "|---|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
} > bench/results/snapshot.md
cat bench/results/snapshot.md
