#!/usr/bin/env python3
"""segment_report.py — turn bench/results/segment.json (written by bench/pagedb_segment_bench)
into Markdown: a table of every variant and the ratios the issue asks for. Python 3 standard
library only.

Usage: python3 bench/segment_report.py RESULTS.json [--md OUT.md] [--readme README.md]
  --md      write the Markdown (tables + machine/versions notes); stdout without it
  --readme  replace the text between <!-- bench:segment:begin --> and
            <!-- bench:segment:end --> in that file with the Markdown (nothing else is touched)
"""
import json
import sys

BEGIN, END = "<!-- bench:segment:begin -->", "<!-- bench:segment:end -->"
PAGEDB = ["pagedb", "pagedb-buffered"]
GOAL_AEAD = 1.3


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}×"


def markdown(doc, details=True):
    res = {r["id"]: r for r in doc["results"]}
    ok = {k: r for k, r in res.items() if r.get("ok")}
    wl = doc["workload"]
    mib = wl["bytes"] / 2**20
    out = []
    out.append(
        f"{mib:.0f} MiB appended in {wl['append_bytes'] // 1024} KiB calls; median of {wl['runs']} runs; "
        "timed until the bytes are durable. MiB/s of user bytes (higher is better); CPU = user + system "
        "seconds of the process (less sensitive to the shared machine's scheduling than wall time).")
    out.append("")
    out.append("| variant | MiB/s | wall s | CPU s | runs, wall s | file bytes |")
    out.append("|---|---|---|---|---|---|")
    for r in doc["results"]:
        if not r.get("ok"):
            out.append(f"| {r['label']} | failed: {r.get('error', '?')} | | | | |")
            continue
        runs = " / ".join(f"{w:.2f}" for w in r["wall_s"])
        fb = f"{r['file_bytes']:,}" if r["file_bytes"] else "—"
        out.append(f"| {r['label']} | {r['mib_per_s']:.0f} | {r['median_wall_s']:.2f} | "
                   f"{r['median_cpu_s']:.2f} | {runs} | {fb} |")
    out.append("")

    def ratio(a, b, key):
        if a not in ok or b not in ok:
            return None
        return ok[a][key] / ok[b][key]

    rows = []
    for p in PAGEDB:
        if p not in ok:
            continue
        label = ok[p]["label"]
        aw, ac = ratio(p, "aead", "median_wall_s"), ratio(p, "aead", "median_cpu_s")
        hw = ratio("handrolled", p, "median_wall_s")  # > 1: pagedb faster
        h1 = ratio("handrolled-1w", p, "median_wall_s")
        hc = ratio("handrolled", p, "median_cpu_s")
        dw = ratio(p, "disk", "median_wall_s")
        dd = ratio(p, "disk-direct", "median_wall_s")
        met_a = "—" if aw is None else ("met" if aw <= GOAL_AEAD else "not met")
        met_h = "—" if hw is None else ("met" if hw > 1 else "not met")
        rows.append(f"| {label} | {fmt_ratio(aw)} ({met_a}) · CPU {fmt_ratio(ac)} | "
                    f"{fmt_ratio(hw)} ({met_h}) · CPU {fmt_ratio(hc)}; one write() per record: "
                    f"{fmt_ratio(h1)} | {fmt_ratio(dw)} · {fmt_ratio(dd)} |")
    if rows:
        out.append("Ratios of the medians. The goal columns give the wall-time ratio (with the goal's verdict), "
                   "then the same ratio on CPU seconds; the last column compares wall time with the raw disk "
                   "runs, buffered · O_DIRECT.")
        out.append("")
        out.append("| pagedb run | pagedb time ÷ raw AEAD time (goal ≤ 1.3×) | hand-written time ÷ pagedb time "
                   "(goal > 1×: pagedb faster) | pagedb time ÷ raw disk time (wall) |")
        out.append("|---|---|---|---|")
        out.extend(rows)
        out.append("")
    for p in PAGEDB:
        ph = ok.get(p, {}).get("median_phase_s")
        if ph:
            out.append(f"{ok[p]['label']}, median seconds per phase: create + append {ph['create_append']:.2f}, "
                       f"seal {ph['seal']:.3f}, link + commit + close {ph['link_commit_close']:.3f}.")
    if any(ok.get(p, {}).get("median_phase_s") for p in PAGEDB):
        out.append("")
    m = doc["machine"]
    out.append(f"Machine: {m['nproc']} × {m['cpu_model']}, {m['memory_bytes'] / 2**30:.0f} GiB, Linux "
               f"{m['kernel']}, {m['filesystem']} (load average {m['loadavg_start'].split()[0]} at start, "
               f"{m['loadavg_end'].split()[0]} at end). Run {doc['started_utc']}, {doc['total_seconds']:.0f} s.")
    v = doc["versions"]
    meta = doc.get("meta", {})
    extra = "".join(f", {k} {val}" for k, val in meta.items())
    out.append(f"Versions: pagedb {v['pagedb']} (libsodium {v['libsodium']}){extra}.")
    if details:
        out.append("")
        out.append("What each variant does:")
        out.append("")
        for r in doc["results"]:
            out.append(f"- **{r['label']}** (`{r['id']}`): {r['what']}.")
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    path = argv[1]
    opts = {}
    i = 2
    while i < len(argv):
        if argv[i] in ("--md", "--readme") and i + 1 < len(argv):
            opts[argv[i]] = argv[i + 1]
            i += 2
        else:
            raise SystemExit(__doc__)
    with open(path) as f:
        doc = json.load(f)
    if "--md" in opts:
        with open(opts["--md"], "w") as f:
            f.write("# Segment append+seal benchmark\n\n")
            f.write("Generated by `bash scripts/bench-segment.sh` from "
                    "[segment.json](segment.json) (raw timings of every run).\n\n")
            f.write(markdown(doc))
    elif "--readme" not in opts:
        sys.stdout.write(markdown(doc))
    if "--readme" in opts:
        with open(opts["--readme"]) as f:
            text = f.read()
        a, b = text.find(BEGIN), text.find(END)
        if a < 0 or b < a:
            raise SystemExit(f"segment_report.py: markers {BEGIN} ... {END} not found in {opts['--readme']}")
        text = text[:a + len(BEGIN)] + "\n" + markdown(doc, details=False) + "\n" + text[b:]
        with open(opts["--readme"], "w") as f:
            f.write(text)


if __name__ == "__main__":
    main(sys.argv)
