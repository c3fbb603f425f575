#!/usr/bin/env python3
"""report.py — combines the browser and WASI benchmark runs of scripts/bench-web.sh into
bench/results/web.json, a Markdown report (web.md) and an SVG chart (web.svg: browser ops/s
per phase as a ratio to pagedb in the worker, log scale).

Usage: python3 bench/web/report.py --work build/webbench --out web.json --md web.md --svg web.svg
                                   [--commit C] [--node V]
A part missing from --work (skipped run) is taken from the existing --out file.
"""
import json
import math
import os
import platform
import sys
from html import escape

PHASES = [("bulk_load", "bulk load"), ("individual_writes", "individual writes"),
          ("batch_writes", "batch writes"), ("random_reads", "random reads"),
          ("random_ranges", "random ranges"), ("removals", "removals")]
WASI_PHASES = [("bulk_load", "bulk load"), ("individual_writes", "individual writes"),
               ("batch_writes", "batch writes"), ("random_reads", "random reads"),
               ("random_range_reads", "random ranges"), ("removals", "removals")]
ENGINES = [("pagedb-worker", "pagedb, sync API in a worker"), ("pagedb-promise", "pagedb, promise API from the page"),
           ("sqlite-wasm", "sqlite-wasm (opfs-sahpool, worker)"), ("indexeddb", "IndexedDB (strict durability)")]
COLORS = {"pagedb-worker": "#1f77b4", "pagedb-promise": "#6baed6", "sqlite-wasm": "#2ca02c", "indexeddb": "#d62728"}
BASE = "pagedb-worker"


def fmt_ops(x):
    if x is None:
        return "—"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e4:
        return f"{x / 1e3:.0f} k"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k"
    return f"{x:.0f}"


def fmt_ratio(x):
    if x is None:
        return "—"
    return f"{x:.2f}×" if x < 10 else f"{x:.0f}×"


def mib(x):
    return f"{x / 2**20:.1f} MiB" if x is not None else "—"


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def bops(doc, eng, phase):
    r = (doc or {}).get("results", {}).get(eng) or {}
    return ((r.get("phases") or {}).get(phase) or {}).get("opsPerSec")


def wops(run, phase):
    return (((run or {}).get("phases") or {}).get(phase) or {}).get("ops_per_sec")


def ratio(a, b):
    return a / b if a and b else None


def markdown(doc):
    b, w = doc.get("browser"), doc.get("wasi")
    out = []
    if b:
        wl = b["workload"]
        out.append(f"### Browser ({wl['n']:,} entries, {b['browser']})")
        out.append("")
        out.append("![browser ops/s per phase as a ratio to pagedb in the worker](web.svg)")
        out.append("")
        hdr = "| phase | " + " | ".join(n for _, n in ENGINES) + " | pagedb worker ÷ sqlite-wasm | pagedb worker ÷ IndexedDB |"
        out += [hdr, "|" + "---|" * (len(ENGINES) + 3)]
        for key, name in PHASES:
            first = next((b["results"][e]["phases"][key]["ops"] for e, _ in ENGINES
                          if b["results"].get(e, {}).get("phases")), None)
            row = [f"{name} ({first:,})" if first else name]
            row += [fmt_ops(bops(b, e, key)) for e, _ in ENGINES]
            row.append(fmt_ratio(ratio(bops(b, BASE, key), bops(b, "sqlite-wasm", key))))
            row.append(fmt_ratio(ratio(bops(b, BASE, key), bops(b, "indexeddb", key))))
            out.append("| " + " | ".join(row) + " |")
        sizes = [mib((b["results"].get(e) or {}).get("fileBytes")) for e, _ in ENGINES]
        out.append("| file size | " + " | ".join(sizes) + " | | |")
        out.append("")
        out.append("ops/s (higher is better); every read verified against the generator. "
                   f"Write phases: bulk load of {wl['n']:,} in one transaction, {wl['individual']:,} one-insert durable commits, "
                   f"{wl['batches']} commits of {wl['batchSize']:,}; {wl['n']:,} random reads, {wl['ranges']:,} random ranges of "
                   f"{wl['rangeLen']}, {wl['n'] // 2:,} removals in one transaction. Cache {wl['cacheBytes'] // 2**20} MiB for every engine.")
        out.append("")
        for e, name in ENGINES:
            r = b["results"].get(e) or {}
            if r.get("error"):
                out.append(f"- **{name}**: FAILED: {r['error']}")
            else:
                out.append(f"- **{name}**: {r.get('settings', '')}; file size: {r.get('fileBytesHow', '')}.")
        out.append("")
        out.append(f"Machine: {b['machine']}. {b['date']}. sqlite-wasm {b['sqliteWasm']}. pagedb git {doc.get('browser_commit', doc.get('commit', '?'))}.")
        out.append("")
    if w:
        out.append(f"### WASI ({w['n']:,} entries, node:wasi {w.get('node', '')} vs native)")
        out.append("")
        out.append("| phase | WASI (node:wasi) | native | WASI ÷ native | native, buffered I/O | WASI ÷ native buffered |")
        out.append("|---|---|---|---|---|---|")
        for key, name in WASI_PHASES:
            a, n, nb = wops(w["wasi"], key), wops(w["native"], key), wops(w.get("native_buffered"), key)
            out.append(f"| {name} | {fmt_ops(a)} | {fmt_ops(n)} | {fmt_ratio(ratio(a, n))} | {fmt_ops(nb)} | {fmt_ratio(ratio(a, nb))} |")
        out.append(f"| file size | {mib(w['wasi'].get('file_bytes'))} | {mib(w['native'].get('file_bytes'))} | | "
                   f"{mib((w.get('native_buffered') or {}).get('file_bytes'))} | |")
        out.append("")
        out.append("One program (bench/web/wasi_bench.c: the native suite's phases and its pagedb driver bench/bench_pagedb.c), "
                   "XChaCha20-Poly1305, 256 MiB cache, 4 KiB pages, every commit durable, 100,000 ranges of 10; "
                   "core compiled at -O2 for both targets (WASI: clang-19, wasm32-wasi, no threads, platform/wasi VFS, "
                   "libsodium 1.0.18 built for wasm32-wasi; native: gcc, PAGEDB_THREADS=1, POSIX VFS with its default "
                   f"O_DIRECT, and buffered with PAGEDB_NODIRECT). Keys and values are generated inside the timed loops, as natively. "
                   f"pagedb git {doc.get('wasi_commit', doc.get('commit', '?'))}.")
        out.append("")
    return "\n".join(out) + "\n"


def svg(doc):
    b = doc["browser"]
    ids = [e for e, _ in ENGINES if (b["results"].get(e) or {}).get("phases")]
    ratios = {(i, k): ratio(bops(b, i, k), bops(b, BASE, k)) for i in ids for k, _ in PHASES}
    vals = [r for r in ratios.values() if r]
    lo = min(-2, math.floor(math.log2(min(vals)))) if vals else -2
    hi = max(2, math.ceil(math.log2(max(vals)))) if vals else 2
    W, H = 960, 480
    left, right, top, bottom = 70, 20, 70, 110
    pw, ph = W - left - right, H - top - bottom

    def y(r):
        return top + ph * (hi - math.log2(r)) / (hi - lo)

    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         f'font-family="Helvetica, Arial, sans-serif" font-size="12">', f'<rect width="{W}" height="{H}" fill="#ffffff"/>']
    s.append(f'<text x="{W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">'
             f'Browser: ops/s per phase as a ratio to pagedb in a worker (log scale, higher is better)</text>')
    wl = b["workload"]
    s.append(f'<text x="{W / 2}" y="44" text-anchor="middle" fill="#555">{wl["n"]:,} entries, 24 B keys, 150 B values, '
             f'durable commits; {escape(b["browser"].split(" (")[0])}; {escape(b["machine"].split(",")[0])}</text>')
    for e in range(lo, hi + 1):
        yy = y(2.0 ** e)
        label = f"{2 ** e:g}×" if e >= 0 else f"1/{2 ** -e:g}×"
        s.append(f'<line x1="{left}" x2="{W - right}" y1="{yy:.1f}" y2="{yy:.1f}" '
                 f'stroke="{"#333" if e == 0 else "#ddd"}" stroke-width="{1.5 if e == 0 else 1}"/>')
        s.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" fill="#333">{label}</text>')
    gw = pw / len(PHASES)
    bw = gw * 0.8 / max(1, len(ids))
    for gi, (key, name) in enumerate(PHASES):
        gx = left + gi * gw + gw * 0.1
        s.append(f'<text x="{left + gi * gw + gw / 2:.1f}" y="{top + ph + 18}" text-anchor="middle">{escape(name)}</text>')
        for bi, i in enumerate(ids):
            r = ratios[(i, key)]
            if not r:
                continue
            x = gx + bi * bw
            y0, y1 = y(1.0), y(r)
            ytop, hgt = min(y0, y1), max(abs(y1 - y0), 1.0)
            tip = f'{dict(ENGINES)[i]}: {fmt_ops(bops(b, i, key))} ops/s ({r:.2f}×)'
            s.append(f'<rect x="{x:.1f}" y="{ytop:.1f}" width="{bw * 0.92:.1f}" height="{hgt:.1f}" '
                     f'fill="{COLORS[i]}"><title>{escape(tip)}</title></rect>')
            ty = y1 - 3 if r >= 1 else y1 + 10
            s.append(f'<text x="{x + bw * 0.46:.1f}" y="{ty:.1f}" text-anchor="middle" font-size="9" fill="#333">{r:.2g}</text>')
    lx, ly = left, H - 50
    for k, i in enumerate(ids):
        xx = lx + (k % 2) * (pw / 2)
        yy = ly + (k // 2) * 18
        s.append(f'<rect x="{xx:.1f}" y="{yy - 10}" width="12" height="12" fill="{COLORS[i]}"/>')
        s.append(f'<text x="{xx + 18:.1f}" y="{yy}" fill="#222">{escape(dict(ENGINES)[i])}</text>')
    s.append("</svg>")
    return "\n".join(s) + "\n"


def main(argv):
    o = {}
    i = 0
    while i < len(argv):
        o[argv[i]] = argv[i + 1]
        i += 2
    work = o["--work"]
    prev = load(o["--out"]) or {}
    commit, skip = o.get("--commit", "?"), o.get("--skip", "")
    doc = {"kind": "web", "commit": commit}
    browser = None if skip == "browser" else load(os.path.join(work, "browser.json"))
    doc["browser"] = browser or prev.get("browser")
    # each part names the commit it was measured at (a skipped part keeps the previous one)
    doc["browser_commit"] = commit if browser else prev.get("browser_commit", prev.get("commit", "?"))
    wasi, native = load(os.path.join(work, "wasi.json")), load(os.path.join(work, "native.json"))
    if skip == "wasi":
        wasi = native = None
    doc["wasi_commit"] = commit if wasi and native else prev.get("wasi_commit", prev.get("commit", "?"))
    if wasi and native:
        doc["wasi"] = {"n": wasi["n"], "node": o.get("--node", ""), "machine": f"{os.cpu_count()} CPU, {platform.platform()}",
                       "wasi": wasi, "native": native, "native_buffered": load(os.path.join(work, "native-buffered.json"))}
    else:
        doc["wasi"] = prev.get("wasi")
    with open(o["--out"], "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    if "--md" in o:
        with open(o["--md"], "w") as f:
            f.write(markdown(doc))
    if "--svg" in o and doc.get("browser"):
        with open(o["--svg"], "w") as f:
            f.write(svg(doc))


if __name__ == "__main__":
    main(sys.argv[1:])
