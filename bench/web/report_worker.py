#!/usr/bin/env python3
"""report_worker.py — the dedicated-worker benchmark of scripts/bench-web-worker.sh: pagedb's
promise API called inside a dedicated worker that owns the database (the engine runs in that
worker's thread, js/src/local.ts) beside sqlite-wasm (opfs-sahpool) in a worker, pagedb's
synchronous API in a worker and pagedb's promise API from the page (engine in its own worker),
per phase, with the ratios promise-in-worker ÷ sqlite-wasm and promise-in-worker ÷ sync API,
plus µs per awaited get (gets called and awaited one at a time).

Usage: python3 bench/web/report_worker.py --in RUN1.json[,RUN2.json,...] --out web-worker.json
                                          --md web-worker.md [--commit C] [--load "before/after"]
With several runs, each figure is the median over the runs and each ratio the median of the
per-run ratios with their range.
"""
import json
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from report import PHASES, fmt_ops, mib  # noqa: E402
from report_tabs import arg, median, ops, ratio_cell  # noqa: E402

ENGINES = [("pagedb-promise-worker", "pagedb, promise API in a dedicated worker"),
           ("sqlite-wasm", "sqlite-wasm (opfs-sahpool, worker)"),
           ("pagedb-worker", "pagedb, sync API in a worker"),
           ("pagedb-promise", "pagedb, promise API from the page")]
MAIN = "pagedb-promise-worker"


def us(doc, eng):
    return ((doc["results"].get(eng) or {}).get("awaitedGet") or {}).get("usPerGet")


def main():
    runs = [json.load(open(p)) for p in arg("in").split(",")]
    doc = dict(runs[0])
    doc["commit"] = arg("commit", "unknown")
    doc["runs"] = runs
    wl = doc["workload"]
    engines = [(e, l) for e, l in ENGINES if any(e in d["results"] for d in runs)]
    counts = {"bulk_load": wl["n"], "individual_writes": wl["individual"],
              "batch_writes": wl["batches"] * wl["batchSize"], "random_reads": wl["n"],
              "random_ranges": wl["ranges"], "removals": wl["n"] // 2}
    out = [f"### Browser, promise API in a dedicated worker ({wl['n']:,} entries, {doc['browser']})", ""]
    out.append("| phase | " + " | ".join(label for _, label in engines)
               + " | promise in worker ÷ sqlite-wasm | promise in worker ÷ sync API |")
    out.append("|---" * (len(engines) + 3) + "|")
    for key, label in PHASES:
        cells = [fmt_ops(median(ops(d, e, key) for d in runs)) for e, _ in engines]
        out.append(f"| {label} ({counts[key]:,}) | " + " | ".join(cells) + " | "
                   f"{ratio_cell(runs, MAIN, 'sqlite-wasm', key)} | {ratio_cell(runs, MAIN, 'pagedb-worker', key)} |")
    lat = [median(us(d, e) for d in runs) for e, _ in engines]
    a, s, w = (median(us(d, e) for d in runs) for e in (MAIN, "sqlite-wasm", "pagedb-worker"))
    out.append("| µs per awaited get (lower is better) | " + " | ".join("—" if x is None else f"{x:.1f} µs" for x in lat)
               + f" | {'—' if not (a and s) else f'{s / a:.2f}×'} | {'—' if not (a and w) else f'{w / a:.2f}×'} |")
    sizes = [(doc["results"].get(e) or {}).get("fileBytes") for e, _ in engines]
    out.append("| file size | " + " | ".join(mib(x) for x in sizes) + " | | |")
    out.append("")
    many = f"Median of {len(runs)} runs (ratios: median of the per-run ratios, range in brackets); " if len(runs) > 1 else ""
    out.append(f"{many}ops/s (higher is better); ratios above 1 = the promise API in a worker is faster (for the "
               f"µs row: the other engine's µs ÷ ours). Every read verified against the generator. Bulk load of "
               f"{wl['n']:,} in one transaction, {wl['individual']:,} one-insert durable commits, "
               f"{wl['batches']} commits of {wl['batchSize']:,}; {wl['n']:,} random reads and {wl['ranges']:,} "
               f"random ranges of {wl['rangeLen']} (the promise API issues them 1,000 at a time), {wl['n'] // 2:,} "
               f"removals in one transaction; then the latency row: the first "
               f"{(runs[0]['results'].get(MAIN) or {}).get('awaitedGet', {}).get('ops', '?')} keys of the random-read "
               f"order, each get awaited before the next is called, in one read transaction. "
               f"Cache {wl['cacheBytes'] // 2**20} MiB for every engine.")
    out.append("")
    for e, label in engines:
        r = doc["results"].get(e) or {}
        if "error" in r:
            out.append(f"- **{label}**: FAILED: {r['error']}")
        else:
            out.append(f"- **{label}**: {r.get('settings')}; file size: {r.get('fileBytesHow')}.")
    out.append("")
    load = f" (shared with other jobs; 1-minute load average before/after: {arg('load')})" if arg("load") else ""
    out.append(f"Machine: {doc['machine']}{load}. "
               f"{', '.join(d['date'] for d in runs)}. sqlite-wasm {doc['sqliteWasm']}. pagedb git {doc['commit']}. "
               f"Command: `RUNS={len(runs)} bash scripts/bench-web-worker.sh {wl['n']}`.")
    out.append("")
    with open(arg("md"), "w") as f:
        f.write("\n".join(out))
    with open(arg("out"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
