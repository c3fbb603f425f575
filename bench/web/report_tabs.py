#!/usr/bin/env python3
"""report_tabs.py — the hop benchmark of scripts/bench-web-tabs.sh: pagedb's promise
API from a second tab (a client of the owner tab) beside the owner tab's own promise-API figures
and sqlite-wasm's, with the cost of the hop as the ratio second tab ÷ owner tab per phase.

Usage: python3 bench/web/report_tabs.py --in RUN1.json[,RUN2.json,...] --out web-tabs.json
                                        --md web-tabs.md [--commit C] [--load "before/after"]
With several runs, each figure is the median over the runs and each ratio the median of the
per-run ratios with their range.
"""
import json
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from report import PHASES, fmt_ops, mib  # noqa: E402

ENGINES = [("pagedb-promise", "pagedb, promise API, owner tab"),
           ("pagedb-tab-client", "pagedb, promise API, second tab (via the owner)"),
           ("sqlite-wasm", "sqlite-wasm (opfs-sahpool, worker)")]


def arg(name, default=None):
    a = sys.argv
    return a[a.index(f"--{name}") + 1] if f"--{name}" in a else default


def ops(doc, eng, phase):
    return (((doc["results"].get(eng) or {}).get("phases") or {}).get(phase) or {}).get("opsPerSec")


def median(xs):
    xs = sorted(x for x in xs if x)
    if not xs:
        return None
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


def ratio_cell(runs, eng_a, eng_b, phase):
    rs = [ops(d, eng_a, phase) / ops(d, eng_b, phase) for d in runs if ops(d, eng_a, phase) and ops(d, eng_b, phase)]
    if not rs:
        return "—"
    if len(rs) == 1:
        return f"{rs[0]:.2f}×"
    return f"{median(rs):.2f}× ({min(rs):.2f}–{max(rs):.2f})"


def main():
    runs = [json.load(open(p)) for p in arg("in").split(",")]
    doc = dict(runs[0])
    doc["commit"] = arg("commit", "unknown")
    doc["runs"] = runs
    wl = doc["workload"]
    total = wl["n"] + wl["individual"] + wl["batches"] * wl["batchSize"]
    counts = {"bulk_load": wl["n"], "individual_writes": wl["individual"],
              "batch_writes": wl["batches"] * wl["batchSize"], "random_reads": wl["n"],
              "random_ranges": wl["ranges"], "removals": wl["n"] // 2}
    out = [f"### Browser, second tab through the owner ({wl['n']:,} entries, {doc['browser']})", ""]
    out.append("| phase | " + " | ".join(label for _, label in ENGINES)
               + " | hop cost: second tab ÷ owner tab | second tab ÷ sqlite-wasm |")
    out.append("|---" * (len(ENGINES) + 3) + "|")
    for key, label in PHASES:
        o, c, s = (median(ops(d, e, key) for d in runs) for e, _ in ENGINES)
        out.append(f"| {label} ({counts[key]:,}) | {fmt_ops(o)} | {fmt_ops(c)} | {fmt_ops(s)} | "
                   f"{ratio_cell(runs, 'pagedb-tab-client', 'pagedb-promise', key)} | "
                   f"{ratio_cell(runs, 'pagedb-tab-client', 'sqlite-wasm', key)} |")
    sizes = [(doc["results"].get(e) or {}).get("fileBytes") for e, _ in ENGINES]
    out.append("| file size | " + " | ".join(mib(x) for x in sizes) + " | | |")
    out.append("")
    many = f"Median of {len(runs)} runs (ratios: median of the per-run ratios, range in brackets); " if len(runs) > 1 else ""
    out.append(f"{many}ops/s (higher is better); a ratio below 1 is the hop's cost (0.50× = half the owner tab's "
               f"rate). Every read verified against the generator. {total:,} keys written: bulk load of "
               f"{wl['n']:,} in one transaction, {wl['individual']:,} one-insert durable commits, "
               f"{wl['batches']} commits of {wl['batchSize']:,}; {wl['n']:,} random reads, {wl['ranges']:,} "
               f"random ranges of {wl['rangeLen']}, {wl['n'] // 2:,} removals in one transaction. "
               f"Cache {wl['cacheBytes'] // 2**20} MiB for every engine. Each run, in this order: owner tab, "
               f"second tab (on its own database, opened first by the first tab, which stays idle as its "
               f"owner), sqlite-wasm.")
    out.append("")
    for e, label in ENGINES:
        r = doc["results"].get(e) or {}
        if "error" in r:
            out.append(f"- **{label}**: FAILED: {r['error']}")
        else:
            out.append(f"- **{label}**: {r.get('settings')}; file size: {r.get('fileBytesHow')}.")
    out.append("")
    load = f" (shared with other jobs; 1-minute load average before/after: {arg('load')})" if arg("load") else ""
    out.append(f"Machine: {doc['machine']}{load}. "
               f"{', '.join(d['date'] for d in runs)}. sqlite-wasm {doc['sqliteWasm']}. pagedb git {doc['commit']}. "
               f"Command: `RUNS={len(runs)} bash scripts/bench-web-tabs.sh {wl['n']}`.")
    out.append("")
    with open(arg("md"), "w") as f:
        f.write("\n".join(out))
    with open(arg("out"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
