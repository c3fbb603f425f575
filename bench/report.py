#!/usr/bin/env python3
"""report.py — turn bench/results/native.json (written by bench/pagedb_bench) into a
Markdown table and an SVG bar chart. Python 3 standard library only.

Usage: python3 bench/report.py RESULTS.json [--md OUT.md] [--svg OUT.svg]
                               [--svg-link PATH] [--readme README.md]
  --md      write the Markdown (tables + machine/versions/settings notes)
  --svg     write the chart: ops/s of every variant per phase as a ratio to pagedb
            XChaCha20-Poly1305 (log scale; above 1x = faster than pagedb)
  --readme  replace the text between <!-- bench:native:begin --> and
            <!-- bench:native:end --> in that file with the Markdown (nothing else is touched)
"""
import json
import math
import sys
from html import escape

PHASES = [
    ("bulk_load", "bulk load"),
    ("individual_writes", "individual writes"),
    ("batch_writes", "batch writes"),
    ("random_reads", "random reads"),
    ("random_range_reads", "random range reads"),
    ("removals", "removals"),
]
BASE = "pagedb-xchacha"
PAGEDB = ["pagedb-xchacha", "pagedb-mac", "pagedb-xchacha-buffered", "pagedb-xchacha-2sync"]
PEERS = ["lmdb", "sqlite", "rocksdb"]
COLORS = {
    "pagedb-xchacha": "#1f6feb",
    "pagedb-mac": "#6ea8fe",
    "pagedb-xchacha-buffered": "#0b3d91",
    "pagedb-xchacha-small": "#9ec5fe",
    "pagedb-xchacha-2sync": "#8250df",
    "lmdb": "#d1495b",
    "sqlite": "#edae49",
    "rocksdb": "#00798c",
}
BEGIN, END = "<!-- bench:native:begin -->", "<!-- bench:native:end -->"


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
    return f"{x / 2**20:.0f} MiB" if x is not None else "—"


def load(path):
    with open(path) as f:
        doc = json.load(f)
    by_id = {}
    for r in doc["results"]:
        by_id[r["id"]] = r
    return doc, by_id


def ops(r, phase):
    if not r or not r.get("ok"):
        return None
    for p in r["phases"]:
        if p["name"] == phase:
            return p["ops_per_sec"]
    return None


def markdown(doc, by_id, svg_link, settings=True):
    w = doc["workload"]
    m = doc["machine"]
    v = doc["versions"]
    ids = [r["id"] for r in doc["results"]]
    out = []
    out.append(
        f"N = {w['n']:,} bulk-loaded entries (keys {w['key_bytes']} B, values {w['value_bytes']} B); "
        f"every commit durable. Higher is better; the ratio table divides pagedb's ops/s by the "
        f"peer's (above 1× = pagedb faster)."
    )
    out.append("")
    if svg_link:
        out.append(f"![ops/s per phase as a ratio to pagedb XChaCha20-Poly1305]({svg_link})")
        out.append("")
    head = ["phase (ops)"] + [by_id[i].get("label", i) for i in ids]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for key, name in PHASES:
        n_ops = next((p["ops"] for r in doc["results"] if r.get("ok") for p in r["phases"] if p["name"] == key), None)
        row = [f"{name} ({n_ops:,})" if n_ops else name]
        for i in ids:
            row.append(fmt_ops(ops(by_id[i], key)) + ("" if ops(by_id[i], key) is None else "/s"))
        out.append("| " + " | ".join(row) + " |")
    row = ["file size after removals"]
    for i in ids:
        r = by_id[i]
        row.append(mib(r.get("file_bytes")) if r.get("ok") else "failed")
    out.append("| " + " | ".join(row) + " |")
    row = ["peak RSS (process)"]
    for i in ids:
        r = by_id[i]
        row.append(mib(r["peak_rss_kib"] * 1024) if r.get("ok") else "failed")
    out.append("| " + " | ".join(row) + " |")
    row = ["engine cache setting"]
    for i in ids:
        s = by_id[i].get("settings", {})
        c = s.get("cache_bytes") or s.get("block_cache_lru_bytes") or (
            s.get("cache_size_kib", 0) * 1024 if s.get("cache_size_kib") else None)
        row.append(mib(c) if c else "OS page cache (mmap)" if i == "lmdb" else "—")
    out.append("| " + " | ".join(row) + " |")
    out.append("")

    pdbs = [p for p in PAGEDB if p in by_id and by_id[p].get("ok")]
    peers = [p for p in PEERS if p in by_id and by_id[p].get("ok")]
    if pdbs and peers:
        out.append("pagedb ÷ peer, ops/s ratio per phase; each cell: "
                   + " · ".join(by_id[p]["label"] for p in pdbs) + ".")
        out.append("")
        head = ["phase"] + [f"vs {by_id[q]['label']}" for q in peers]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        for key, name in PHASES:
            row = [name]
            for q in peers:
                cells = []
                for p in pdbs:
                    a, b = ops(by_id[p], key), ops(by_id[q], key)
                    cells.append(fmt_ratio(a / b) if a and b else "—")
                row.append(" · ".join(cells))
            out.append("| " + " | ".join(row) + " |")
        out.append("")
    failed = [r for r in doc["results"] if not r.get("ok")]
    for r in failed:
        out.append(f"**{r.get('label', r['id'])} failed:** {r.get('error', '?')}")
        out.append("")
    out.append(
        f"Machine: {m['nproc']} × {m['cpu_model']}, {m['memory_bytes'] / 2**30:.0f} GiB, Linux {m['kernel']}, "
        f"{m['filesystem']} (load average {m['loadavg_start'].split()[0]} at start, "
        f"{m['loadavg_end'].split()[0]} at end). Run {doc['started_utc']}, {doc['total_seconds'] / 60:.0f} min."
    )
    out.append(
        f"Versions: pagedb {v['pagedb']} (libsodium {v['libsodium']}), {v['lmdb']}, SQLite {v['sqlite']}, "
        f"RocksDB {v['rocksdb']}."
    )
    meta = doc.get("meta") or {}
    if meta:
        out.append("Build: " + ", ".join(f"{k} {val}" for k, val in meta.items()) + ".")
    out.append("")
    if not settings:
        out.append("Every engine's settings, and the raw timings: [bench/results/native.md](bench/results/native.md), "
                   "[bench/results/native.json](bench/results/native.json).")
        out.append("")
        return "\n".join(out)
    out.append("Settings:")
    for i in ids:
        s = by_id[i].get("settings")
        if s:
            out.append(f"- {by_id[i].get('label', i)}: " + "; ".join(f"{k} = {val}" for k, val in s.items()))
    out.append("")
    return "\n".join(out)


def svg(doc, by_id):
    ids = [r["id"] for r in doc["results"] if r.get("ok")]
    base = by_id.get(BASE)
    if not base or not base.get("ok"):
        raise SystemExit("report.py: no successful pagedb-xchacha result to take ratios against")
    ratios = {}
    for i in ids:
        for key, _ in PHASES:
            a, b = ops(by_id[i], key), ops(base, key)
            ratios[(i, key)] = a / b if a and b else None
    vals = [r for r in ratios.values() if r]
    lo = min(-2, math.floor(math.log2(min(vals)))) if vals else -2
    hi = max(2, math.ceil(math.log2(max(vals)))) if vals else 2
    W, H = 960, 480
    left, right, top, bottom = 70, 20, 70, 110
    pw, ph = W - left - right, H - top - bottom

    def y(r):
        return top + ph * (hi - math.log2(r)) / (hi - lo)

    s = []
    s.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
             f'font-family="Helvetica, Arial, sans-serif" font-size="12">')
    s.append(f'<rect width="{W}" height="{H}" fill="#ffffff"/>')
    w = doc["workload"]
    s.append(f'<text x="{W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">'
             f'ops/s per phase as a ratio to pagedb XChaCha20-Poly1305 (log scale, higher is better)</text>')
    m = doc["machine"]
    s.append(f'<text x="{W / 2}" y="44" text-anchor="middle" fill="#555">'
             f'{w["n"]:,} entries, 24 B keys, 150 B values, durable commits; '
             f'{m["nproc"]} × {escape(m["cpu_model"])}, Linux {escape(m["kernel"])}</text>')
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
        s.append(f'<text x="{left + gi * gw + gw / 2:.1f}" y="{top + ph + 18}" text-anchor="middle">'
                 f'{escape(name)}</text>')
        for bi, i in enumerate(ids):
            r = ratios[(i, key)]
            if not r:
                continue
            x = gx + bi * bw
            y0, y1 = y(1.0), y(r)
            ytop, hgt = min(y0, y1), max(abs(y1 - y0), 1.0)
            tip = f'{by_id[i].get("label", i)}: {fmt_ops(ops(by_id[i], key))} ops/s ({r:.2f}×)'
            s.append(f'<rect x="{x:.1f}" y="{ytop:.1f}" width="{bw * 0.92:.1f}" height="{hgt:.1f}" '
                     f'fill="{COLORS.get(i, "#888")}"><title>{escape(tip)}</title></rect>')
            ty = y1 - 3 if r >= 1 else y1 + 10
            s.append(f'<text x="{x + bw * 0.46:.1f}" y="{ty:.1f}" text-anchor="middle" font-size="9" '
                     f'fill="#333">{r:.2g}</text>')
    # legend
    lx, ly = left, H - 50
    per_row = 3
    for k, i in enumerate(ids):
        xx = lx + (k % per_row) * (pw / per_row)
        yy = ly + (k // per_row) * 18
        lab = by_id[i].get("label", i)
        s.append(f'<rect x="{xx:.1f}" y="{yy - 10}" width="12" height="12" fill="{COLORS.get(i, "#888")}"/>')
        s.append(f'<text x="{xx + 18:.1f}" y="{yy}" fill="#222">{escape(lab)}</text>')
    s.append("</svg>")
    return "\n".join(s) + "\n"


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = argv[1]
    opts = {}
    i = 2
    while i < len(argv):
        if argv[i] in ("--md", "--svg", "--readme", "--svg-link") and i + 1 < len(argv):
            opts[argv[i]] = argv[i + 1]
            i += 2
        else:
            print(__doc__, file=sys.stderr)
            return 2
    doc, by_id = load(path)
    md = markdown(doc, by_id, opts.get("--svg-link"))
    if "--md" in opts:
        with open(opts["--md"], "w") as f:
            f.write(md)
    elif "--readme" not in opts:
        print(md)
    if "--svg" in opts:
        with open(opts["--svg"], "w") as f:
            f.write(svg(doc, by_id))
    if "--readme" in opts:
        with open(opts["--readme"]) as f:
            text = f.read()
        a, b = text.find(BEGIN), text.find(END)
        if a < 0 or b < a:
            raise SystemExit(f"report.py: markers {BEGIN} ... {END} not found in {opts['--readme']}")
        short = markdown(doc, by_id, opts.get("--svg-link"), settings=False)
        text = text[: a + len(BEGIN)] + "\n" + short + "\n" + text[b:]
        with open(opts["--readme"], "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
